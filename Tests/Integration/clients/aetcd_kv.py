"""aetcd's (asyncio) KV API against a server: `python aetcd_kv.py PORT`. Run in its own interpreter."""
import asyncio
import sys

import aetcd


async def scenario(port):
    async with aetcd.Client(host="127.0.0.1", port=port) as client:
        await client.put(b"/a/1", b"one")
        await client.put(b"/a/2", b"two")
        got = await client.get(b"/a/1")
        assert got.value == b"one" and got.version == 1, got
        values = [kv.value for kv in await client.get_prefix(b"/a/")]
        assert values == [b"one", b"two"], values
        assert await client.delete(b"/a/1") is not None
        assert await client.get(b"/a/1") is None
        print("aetcd kv ok")


asyncio.run(scenario(int(sys.argv[1])))
