"""aetcd's watch API against a server: `python aetcd_watch.py PORT`."""
import asyncio
import sys

import aetcd


async def scenario(port):
    async with aetcd.Client(host="127.0.0.1", port=port) as client:
        await client.put(b"/aw/a", b"1")
        first = (await client.get(b"/aw/a")).mod_revision
        watch = await client.watch_prefix(b"/aw/", start_revision=first)
        await client.put(b"/aw/b", b"2")
        await client.delete(b"/aw/a")
        seen = []
        async for event in watch:
            seen.append((str(event.kind), event.kv.key, event.kv.value))
            if len(seen) == 3:
                break
        await watch.cancel()
        assert seen == [("PUT", b"/aw/a", b"1"), ("PUT", b"/aw/b", b"2"), ("DELETE", b"/aw/a", b"")], seen

        # Many watches on one connection.
        watches = [await client.watch(b"/many/%d" % i) for i in range(20)]
        for i in range(20):
            await client.put(b"/many/%d" % i, b"v%d" % i)
        for i, w in enumerate(watches):
            async for event in w:
                assert event.kv.value == b"v%d" % i, event
                break
            await w.cancel()
        print("aetcd watch ok")


asyncio.run(asyncio.wait_for(scenario(int(sys.argv[1])), 60))
