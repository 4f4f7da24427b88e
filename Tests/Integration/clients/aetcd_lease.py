"""aetcd's lease API: `python aetcd_lease.py PORT`."""
import asyncio
import sys

import aetcd


async def scenario(port):
    async with aetcd.Client(host="127.0.0.1", port=port) as client:
        lease = await client.lease(20)
        await client.put(b"/al/a", b"1", lease=lease)
        remaining = await lease.remaining_ttl()
        granted = await lease.granted_ttl()
        assert 0 < remaining <= 20 and granted == 20, (remaining, granted)
        keys = await lease.keys()
        assert keys == [b"/al/a"], keys
        await lease.refresh()
        await lease.revoke()
        assert await client.get(b"/al/a") is None
        print("aetcd lease ok")


asyncio.run(asyncio.wait_for(scenario(int(sys.argv[1])), 60))
