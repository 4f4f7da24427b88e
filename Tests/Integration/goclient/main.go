// Command goclient drives a server with the stock Go clientv3 (etcd 3.4's, from Debian's golang-etcd-server-dev)
// through KV, Txn, Compact, Watch, Lease, Cluster and Maintenance calls, and prints what it saw: one JSON object per
// step, with identity fields (cluster and member IDs, raft term, lease IDs) left out, so that the integration suite
// can compare a run against Vigil with a run against a real etcd.
//
// With -follow PREFIX it instead watches PREFIX from revision 1 with clientv3's defaults (which reconnect and resume
// a broken watch by themselves) and prints one JSON line per event, until it sees the key PREFIX + "end".
//
// Builds offline: GO111MODULE=off GOPATH=/usr/share/gocode go build -o goclient .
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

var (
	endpoint = flag.String("endpoint", "127.0.0.1:2379", "server address")
	follow   = flag.String("follow", "", "watch this prefix from revision 1 and print its events (see above)")
)

// step prints one step's result as a JSON line.
func step(name string, result interface{}) {
	line, err := json.Marshal(map[string]interface{}{"step": name, "result": result})
	if err != nil {
		fail("encoding %s: %v", name, err)
	}
	fmt.Println(string(line))
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}

func check(what string, err error) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

// kv is a key-value pair as compared between servers.
type kv struct {
	Key, Value                     string
	Create, Mod, Version, HasLease int64
}

func kvOf(k *mvccpb.KeyValue) *kv {
	if k == nil {
		return nil
	}
	lease := int64(0)
	if k.Lease != 0 {
		lease = 1
	}
	return &kv{string(k.Key), string(k.Value), k.CreateRevision, k.ModRevision, k.Version, lease}
}

func kvsOf(kvs []*mvccpb.KeyValue) []*kv {
	out := []*kv{}
	for _, k := range kvs {
		out = append(out, kvOf(k))
	}
	return out
}

// event is a watch event as compared between servers.
type event struct {
	Type string
	KV   *kv
	Prev *kv
}

func eventsOf(events []*clientv3.Event) []event {
	out := []event{}
	for _, e := range events {
		out = append(out, event{e.Type.String(), kvOf(e.Kv), kvOf(e.PrevKv)})
	}
	return out
}

// receive waits for the next watch response, failing after a generous deadline.
func receive(ch clientv3.WatchChan, what string) clientv3.WatchResponse {
	select {
	case resp, ok := <-ch:
		if !ok {
			fail("%s: watch channel closed", what)
		}
		return resp
	case <-time.After(30 * time.Second):
		fail("%s: no watch response in 30s", what)
	}
	panic("unreachable")
}

// receiveEvents collects `n` events from ch, across however many responses carry them.
func receiveEvents(ch clientv3.WatchChan, n int, what string) []event {
	var events []event
	for len(events) < n {
		resp := receive(ch, what)
		check(what, resp.Err())
		events = append(events, eventsOf(resp.Events)...)
	}
	return events
}

// followPrefix prints every event under prefix from revision 1 as {"type", "key", "mod_revision"}, one line each,
// and returns once the key prefix+"end" has come. Errors in between (the server went away) are printed too: the
// watch channel stays open while clientv3 reconnects, and closes only if the watch cannot go on.
func followPrefix(cli *clientv3.Client, prefix string) {
	for response := range cli.Watch(context.Background(), prefix, clientv3.WithPrefix(), clientv3.WithRev(1)) {
		if err := response.Err(); err != nil {
			step("watch error", err.Error())
			continue
		}
		for _, e := range response.Events {
			line, _ := json.Marshal(map[string]interface{}{"type": e.Type.String(), "key": string(e.Kv.Key),
				"mod_revision": e.Kv.ModRevision})
			fmt.Println(string(line))
			if string(e.Kv.Key) == prefix+"end" {
				return
			}
		}
	}
	fail("the watch channel closed before %qend arrived", prefix)
}

func main() {
	flag.Parse()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 10 * time.Second})
	check("connecting", err)
	defer cli.Close()
	if *follow != "" {
		followPrefix(cli, *follow)
		return
	}
	ctx, cancel := context.WithTimeout(clientv3.WithRequireLeader(context.Background()), 2*time.Minute)
	defer cancel()

	// KV.
	put, err := cli.Put(ctx, "a", "1", clientv3.WithPrevKV())
	check("put a", err)
	step("put a=1", map[string]interface{}{"revision": put.Header.Revision, "prev": kvOf(put.PrevKv)})
	put, err = cli.Put(ctx, "a", "2", clientv3.WithPrevKV())
	check("put a again", err)
	step("put a=2", map[string]interface{}{"revision": put.Header.Revision, "prev": kvOf(put.PrevKv)})
	for _, k := range []string{"b", "c", "d"} {
		_, err = cli.Put(ctx, k, k+k)
		check("put "+k, err)
	}
	get, err := cli.Get(ctx, "", clientv3.WithFromKey(), clientv3.WithLimit(2),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortDescend))
	check("get all", err)
	step("get from-key limit 2 descending", map[string]interface{}{
		"revision": get.Header.Revision, "kvs": kvsOf(get.Kvs), "count": get.Count, "more": get.More})
	get, err = cli.Get(ctx, "a", clientv3.WithRev(2))
	check("get a at 2", err)
	step("get a at revision 2", kvsOf(get.Kvs))
	get, err = cli.Get(ctx, "b", clientv3.WithRange("d"), clientv3.WithCountOnly())
	check("count b..d", err)
	step("count [b, d)", map[string]interface{}{"count": get.Count, "kvs": kvsOf(get.Kvs)})
	del, err := cli.Delete(ctx, "b", clientv3.WithPrevKV())
	check("delete b", err)
	step("delete b", map[string]interface{}{"revision": del.Header.Revision, "deleted": del.Deleted,
		"prev": kvsOf(del.PrevKvs)})
	txn, err := cli.Txn(ctx).If(clientv3.Compare(clientv3.Value("a"), "=", "2")).
		Then(clientv3.OpPut("a", "3"), clientv3.OpGet("a")).Else(clientv3.OpGet("c")).Commit()
	check("txn", err)
	step("txn a=2 ? put a=3, get a", map[string]interface{}{"revision": txn.Header.Revision,
		"succeeded": txn.Succeeded, "got": kvsOf(txn.Responses[1].GetResponseRange().Kvs)})
	txn, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.Version("zz"), ">", 0)).Then(clientv3.OpDelete("a")).
		Else(clientv3.OpGet("c")).Commit()
	check("txn else", err)
	step("txn else branch", map[string]interface{}{"revision": txn.Header.Revision, "succeeded": txn.Succeeded,
		"got": kvsOf(txn.Responses[0].GetResponseRange().Kvs)})
	_, err = cli.Put(ctx, "", "x")
	step("put empty key", fmt.Sprint(err))

	// Watch: created notification, events with prev_kv, a progress request, a replay from history.
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	watch := cli.Watch(watchCtx, "w", clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithCreatedNotify())
	created := receive(watch, "created")
	step("watch created", map[string]interface{}{"created": created.Created, "revision": created.Header.Revision})
	first := created.Header.Revision + 1
	_, err = cli.Put(ctx, "w1", "x")
	check("put w1", err)
	_, err = cli.Put(ctx, "w2", "y")
	check("put w2", err)
	_, err = cli.Put(ctx, "w1", "z")
	check("put w1 again", err)
	_, err = cli.Delete(ctx, "w", clientv3.WithPrefix())
	check("delete w*", err)
	step("watch events", receiveEvents(watch, 5, "watch events"))
	check("progress request", cli.RequestProgress(watchCtx))
	progress := receive(watch, "progress")
	step("progress notification", map[string]interface{}{"progress": progress.IsProgressNotify(),
		"revision": progress.Header.Revision})
	replay := cli.Watch(watchCtx, "w1", clientv3.WithRev(first))
	step("replay w1", receiveEvents(replay, 3, "replay"))

	// Watch options on one stream: filters, a half-open range, from-key, a start in the future; then every watch
	// ends when its context does.
	optionsCtx, stopOptions := context.WithCancel(ctx)
	watchCreated := func(what, key string, opts ...clientv3.OpOption) clientv3.WatchChan {
		ch := cli.Watch(optionsCtx, key, append(opts, clientv3.WithCreatedNotify())...)
		if created := receive(ch, what+" created"); !created.Created {
			fail("%s: first response is not the created notification", what)
		}
		return ch
	}
	now, err := cli.Get(ctx, "f")
	check("get f", err)
	base := now.Header.Revision
	noPut := watchCreated("no put", "f", clientv3.WithPrefix(), clientv3.WithFilterPut())
	noDelete := watchCreated("no delete", "f", clientv3.WithPrefix(), clientv3.WithFilterDelete(), clientv3.WithPrevKV())
	ranged := watchCreated("range [f1, f3)", "f1", clientv3.WithRange("f3"), clientv3.WithPrevKV())
	fromKey := watchCreated("from f2", "f2", clientv3.WithFromKey())
	future := cli.Watch(optionsCtx, "f1", clientv3.WithRev(base+3))
	for _, op := range []clientv3.Op{
		clientv3.OpPut("f1", "a"), clientv3.OpPut("f2", "b"), clientv3.OpPut("f3", "c"), clientv3.OpDelete("f1"),
		clientv3.OpPut("f1", "again"), clientv3.OpPut("f9", "d"), clientv3.OpPut("g", "e"),
	} {
		_, err := cli.Do(ctx, op)
		check("options write", err)
	}
	step("watch without puts", receiveEvents(noPut, 1, "no put"))
	step("watch without deletes, prev_kv", receiveEvents(noDelete, 5, "no delete"))
	step("watch of [f1, f3), prev_kv", receiveEvents(ranged, 4, "range"))
	step("watch from f2", receiveEvents(fromKey, 4, "from key"))
	step("watch of f1 from a future revision", receiveEvents(future, 2, "future"))
	stopOptions()
	ended := func(ch clientv3.WatchChan) bool {
		deadline := time.After(30 * time.Second)
		for {
			select {
			case _, ok := <-ch:
				if !ok {
					return true
				}
			case <-deadline:
				return false
			}
		}
	}
	step("watches end with their context", []bool{ended(noPut), ended(noDelete), ended(ranged), ended(fromKey),
		ended(future)})

	// Compaction: reads and watches below it fail with etcd's error.
	current, err := cli.Get(ctx, "a")
	check("get a", err)
	_, err = cli.Compact(ctx, current.Header.Revision-2)
	check("compact", err)
	_, err = cli.Get(ctx, "a", clientv3.WithRev(1))
	step("get below compaction", fmt.Sprint(err))
	old := receive(cli.Watch(watchCtx, "a", clientv3.WithRev(1)), "compacted watch")
	step("watch below compaction", map[string]interface{}{"canceled": old.Canceled,
		"compact_revision": old.CompactRevision, "error": fmt.Sprint(old.Err())})

	// Leases.
	grant, err := cli.Grant(ctx, 60)
	check("grant", err)
	step("grant", map[string]interface{}{"ttl": grant.TTL, "id_positive": grant.ID > 0})
	_, err = cli.Put(ctx, "leased", "v", clientv3.WithLease(grant.ID))
	check("put with lease", err)
	ttl, err := cli.TimeToLive(ctx, grant.ID, clientv3.WithAttachedKeys())
	check("time to live", err)
	keys := []string{}
	for _, k := range ttl.Keys {
		keys = append(keys, string(k))
	}
	step("time to live", map[string]interface{}{"granted": ttl.GrantedTTL, "ttl_in_range": ttl.TTL > 0 && ttl.TTL <= 60,
		"keys": keys})
	once, err := cli.KeepAliveOnce(ctx, grant.ID)
	check("keep alive once", err)
	step("keep alive once", once.TTL)
	leases, err := cli.Leases(ctx)
	check("leases", err)
	step("leases", len(leases.Leases))
	_, err = cli.Revoke(ctx, grant.ID)
	check("revoke", err)
	get, err = cli.Get(ctx, "leased")
	check("get leased", err)
	step("after revoke", map[string]interface{}{"kvs": kvsOf(get.Kvs), "revision": get.Header.Revision})
	_, err = cli.Revoke(ctx, grant.ID)
	step("revoke again", fmt.Sprint(err))
	_, err = cli.Put(ctx, "x", "y", clientv3.WithLease(clientv3.LeaseID(12345)))
	step("put with unknown lease", fmt.Sprint(err))

	// Cluster and maintenance: what clients read at connect time.
	members, err := cli.MemberList(ctx)
	check("member list", err)
	member := members.Members[0]
	step("member list", map[string]interface{}{"count": len(members.Members), "named": member.Name != "",
		"client_urls": len(member.ClientURLs) > 0, "peer_urls": len(member.PeerURLs) > 0})
	status, err := cli.Status(ctx, *endpoint)
	check("status", err)
	step("status", map[string]interface{}{"version": status.Version != "", "leader_is_member": status.Leader == status.Header.MemberId,
		"revision": status.Header.Revision, "db_size": status.DbSize > 0})
	alarms, err := cli.AlarmList(ctx)
	check("alarm list", err)
	step("alarms", len(alarms.Alarms))
}
