#!/usr/bin/env python3
"""Prints the EIP-2612 permit signatures that voucher.toml uses.

The owner's key is a fixed test key (32 bytes of 0x42, address
0x17c5185167401eD00cF5F5b2fc97D9BBfDb7D025); the token is the Voucher the
scenario deploys (deployer 0xa11ce, nonce 0) on chain 1.

    pip install eth-account && python3 examples/scenarios/sign_permits.py
"""
from eth_account import Account
from eth_account.messages import encode_typed_data

KEY = "0x" + "42" * 32
TOKEN = "0x6b182f1488E8EfEb2Eb298155ed5Bd7FF8A14042"
BOB = "0x0000000000000000000000000000000000000b0b"
CAROL = "0x0000000000000000000000000000000000000cab"
DEADLINE = 1_900_000_000


def permit(spender, value, nonce):
    owner = Account.from_key(KEY).address
    data = {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Permit": [
                {"name": "owner", "type": "address"},
                {"name": "spender", "type": "address"},
                {"name": "value", "type": "uint256"},
                {"name": "nonce", "type": "uint256"},
                {"name": "deadline", "type": "uint256"},
            ],
        },
        "primaryType": "Permit",
        "domain": {"name": "Voucher", "version": "1", "chainId": 1, "verifyingContract": TOKEN},
        "message": {"owner": owner, "spender": spender, "value": value,
                    "nonce": nonce, "deadline": DEADLINE},
    }
    s = Account.sign_message(encode_typed_data(full_message=data), KEY)
    print(f"spender {spender} value {value} nonce {nonce}: "
          f'"{s.v}", "0x{s.r:064x}", "0x{s.s:064x}"  (digest 0x{s.message_hash.hex()})')


permit(BOB, 300 * 10**18, 0)
permit(CAROL, 50 * 10**18, 1)
