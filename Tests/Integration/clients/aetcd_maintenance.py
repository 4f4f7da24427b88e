"""aetcd's maintenance API — status, hash, snapshot, defragment: `python aetcd_maintenance.py PORT`."""
import asyncio
import hashlib
import io
import sys
import time

import aetcd


async def scenario(port):
    async with aetcd.Client(host="127.0.0.1", port=port, timeout=30) as client:
        for i in range(200):
            await client.put(b"/am/%d" % i, b"x" * 1000)
        # etcd's dbSize may lag its last puts by its bolt batch interval (100 ms): wait for it with a deadline.
        deadline = time.monotonic() + 30
        status = await client.status()
        while status.db_size <= 200_000 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            status = await client.status()
        assert status.db_size > 200_000, status.db_size
        before = await client.hash()
        await client.put(b"/am/extra", b"y")
        assert await client.hash() != before, "a write changes the hash"
        snapshot = io.BytesIO()
        await client.snapshot(snapshot)
        data = snapshot.getvalue()
        assert len(data) % 512 == 32 and hashlib.sha256(data[:-32]).digest() == data[-32:], len(data)
        response = await client.delete_prefix(b"/am/")
        await client.put(b"/after", b"z")
        kv = await client.get(b"/after")
        await client.compact(kv.mod_revision, physical=True)
        await client.defragment()
        assert (await client.status()).db_size < status.db_size / 4
        print("aetcd maintenance ok")


asyncio.run(asyncio.wait_for(scenario(int(sys.argv[1])), 120))
