"""The one error type for bad input anywhere in Pingyi: a Chinese message that says where."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user: a meeting file, a ballot file, a request.

    `where` names the place (a key such as ``reporters[2].id``, or ``file:line:column``) and
    `message` says, in Chinese, what is wrong and what was expected. Nothing is applied when
    one is raised.
    """

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        self.message = message
        super().__init__(f"{where}：{message}" if where else message)
