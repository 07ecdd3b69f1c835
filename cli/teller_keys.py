"""The 监票人's key pair: `pingyi teller-key`, and which key `pingyi serve` seals rounds to.

The private half opens a round's sealed ballots when the process that opened the round has
gone (server/sealing.py). It is written for the 监票人 to keep — on paper, or in a file on
their own device — and never into the data directory.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from cli.files import read_text
from server.datadir import DataDir, write_private
from server.sealing import TellerKeys, key_text, parse_key_text

KEEP_IT = "请监票人抄写或拍照后妥善保管；本机不保存。服务器崩溃后，凭此密钥开启密封的选票。"


def register(subparsers: argparse._SubParsersAction) -> None:
    command = subparsers.add_parser(
        "teller-key",
        help="make the 监票人's key pair (生成监票人密钥)",
        description="Make a key pair for the 监票人 (scrutineer): give the public key to "
        "`pingyi serve --teller-public`, and keep the private key away from the server.",
    )
    command.add_argument(
        "-o", "--out", type=Path, default=None, help="write the private key to this file"
    )
    command.set_defaults(func=run_teller_key)


def run_teller_key(args: argparse.Namespace) -> int:
    keys = TellerKeys.generate()
    print(f"监票人公钥  {key_text('public', keys.public)}")
    private = key_text("private", keys.private)
    if args.out:
        write_private(args.out, f"{private}\n".encode())  # 0600: the 监票人's alone
        print(f"监票人私钥  已写入 {args.out}")
    else:
        print(f"监票人私钥  {private}")
    print(KEEP_IT)
    return 0


def add_serve_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--teller-public",
        default=None,
        metavar="KEY",
        help="the 监票人's public key (from `pingyi teller-key`) to seal each round to "
        "[the one in the data directory; at the first start a new pair is made]",
    )
    serve.add_argument(
        "--teller-key",
        type=Path,
        default=None,
        metavar="FILE",
        help="the 监票人's private key, to count rounds whose ballots a crash left sealed",
    )


@dataclass(frozen=True)
class ServeKeys:
    public: bytes
    private: bytes | None  # given with --teller-key
    made: str | None  # a private key made at this start, to show once


def serve_keys(args: argparse.Namespace, data_dir: DataDir) -> ServeKeys:
    """The 监票人 key for `pingyi serve`: given, kept in the data directory, or made now."""
    private = None
    if args.teller_key is not None:
        private = read_private(args.teller_key)
        public = TellerKeys.from_private(private).public
    elif args.teller_public is not None:
        public = parse_key_text("public", args.teller_public, "--teller-public")
    elif data_dir.teller_public_path.exists():
        kept = data_dir.teller_public_path.read_text()
        public = parse_key_text("public", kept, str(data_dir.teller_public_path))
    else:
        made = TellerKeys.generate()
        _keep_public(data_dir, made.public)
        return ServeKeys(made.public, None, key_text("private", made.private))
    _keep_public(data_dir, public)
    return ServeKeys(public, private, None)


def read_private(path: Path) -> bytes:
    """The 监票人's private key from the file `pingyi teller-key -o` wrote (or one typed)."""
    return parse_key_text("private", read_text(path), "--teller-key")


def _keep_public(data_dir: DataDir, public: bytes) -> None:
    write_private(data_dir.teller_public_path, f"{key_text('public', public)}\n".encode())
