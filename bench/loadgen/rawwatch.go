package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"google.golang.org/grpc"
)

// rawWatchers drives watchers over raw etcdserverpb.Watch streams: one goroutine per stream receives, decodes and
// checks every response. clientv3's watch path hands each response through several goroutines and channels per
// watcher, which on two shared cores costs more than either server spends producing the event; raw streams keep
// the load generator's cost per event small, so that fan-out figures measure the servers.
type rawWatchers struct {
	streams []pb.Watch_WatchClient
	cancel  context.CancelFunc
	// watchers[s] maps a watch ID on stream s to its state; filled while creating, read-only afterwards.
	watchers []map[int64]*rawWatcher
	// responses counts the event-carrying responses received (atomically).
	responses int64
}

// rawWatcher is the receiving side's record of one watch: what arrived and whether it was in order.
type rawWatcher struct {
	events  int
	lastRev int64
	// latencies holds put→event delays when the event values carry the put's send time (fanout-latency).
	latencies []time.Duration
}

// openRawWatchers opens `*streams` Watch streams, round-robin over `conns`, and creates `*watchers` watchers on
// key, round-robin over the streams, waiting until each is created.
func openRawWatchers(conns []*grpc.ClientConn, key string) (*rawWatchers, error) {
	ctx, cancel := context.WithCancel(context.Background())
	rw := &rawWatchers{cancel: cancel}
	for s := 0; s < *streams; s++ {
		client := pb.NewWatchClient(conns[s%len(conns)])
		stream, err := client.Watch(ctx, grpc.ForceCodec(rawCodec{}))
		if err != nil {
			cancel()
			return nil, err
		}
		rw.streams = append(rw.streams, stream)
		rw.watchers = append(rw.watchers, map[int64]*rawWatcher{})
	}
	perStream := watchersPerStream()
	errs := make(chan error, *streams)
	for s, stream := range rw.streams {
		go func(s int, stream pb.Watch_WatchClient) {
			for i := 0; i < perStream[s]; i++ {
				req := &pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{
					CreateRequest: &pb.WatchCreateRequest{Key: []byte(key)}}}
				if err := stream.Send(req); err != nil {
					errs <- err
					return
				}
			}
			var raw []byte
			var resp watchSummary
			for i := 0; i < perStream[s]; i++ {
				if err := stream.RecvMsg(&raw); err != nil {
					errs <- err
					return
				}
				if err := summarize(raw, &resp); err != nil {
					errs <- err
					return
				}
				if !resp.created || resp.canceled {
					errs <- fmt.Errorf("stream %d: expected a created response, got %+v", s, resp)
					return
				}
				rw.watchers[s][resp.watchID] = &rawWatcher{}
			}
			errs <- nil
		}(s, stream)
	}
	for range rw.streams {
		select {
		case err := <-errs:
			if err != nil {
				cancel()
				return nil, err
			}
		case <-time.After(120 * time.Second):
			cancel()
			return nil, fmt.Errorf("watchers not created in time")
		}
	}
	return rw, nil
}

// receive reads every stream until each of its watchers has `perWatcher` events, checking that each watcher's
// events come in increasing revision order with none missing or repeated (every put is to the watched key, so
// each watcher must see the revisions of all puts, each once). With timed set, each event value is the put's send
// time in Unix nanoseconds and its delay is recorded. It returns once all streams are done, or the first error.
func (rw *rawWatchers) receive(perWatcher int, timed bool, deadline time.Duration) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(rw.streams))
	for s, stream := range rw.streams {
		wg.Add(1)
		go func(s int, stream pb.Watch_WatchClient) {
			defer wg.Done()
			watchers := rw.watchers[s]
			pending := len(watchers)
			var sendTimes *sendTimeCache
			if timed {
				sendTimes = &sendTimeCache{}
			}
			var raw []byte
			var resp watchSummary
			for pending > 0 {
				if err := stream.RecvMsg(&raw); err != nil {
					errs <- fmt.Errorf("stream %d: %v", s, err)
					return
				}
				if err := summarize(raw, &resp); err != nil {
					errs <- fmt.Errorf("stream %d: %v", s, err)
					return
				}
				w := watchers[resp.watchID]
				if w == nil || resp.canceled || resp.created {
					errs <- fmt.Errorf("stream %d: unexpected response %+v", s, resp)
					return
				}
				atomic.AddInt64(&rw.responses, 1)
				finished, err := w.accept(&resp, perWatcher, sendTimes, time.Now())
				if err != nil {
					errs <- err
					return
				}
				if finished {
					pending--
				}
			}
		}(s, stream)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-errs:
		return err
	case <-time.After(deadline):
		return fmt.Errorf("not every event arrived in %v: %d of %d", deadline, rw.delivered(), perWatcher**watchers)
	}
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// delivered counts the events received so far over all watchers (exact once receive has returned).
func (rw *rawWatchers) delivered() int {
	n := 0
	for _, ws := range rw.watchers {
		for _, w := range ws {
			n += w.events
		}
	}
	return n
}

func (rw *rawWatchers) close() { rw.cancel() }

// accept checks one events response of this watcher, received at now: its revisions must continue the watcher's
// sequence with no gap or repeat (every put is to the watched key). With sendTimes set (fanout-latency), each event
// value is the put's send time in Unix nanoseconds and its delay is recorded. It reports whether the watcher now
// has all `perWatcher` events.
func (w *rawWatcher) accept(resp *watchSummary, perWatcher int, sendTimes *sendTimeCache, now time.Time) (bool, error) {
	if resp.contiguous && sendTimes == nil && len(resp.revs) > 0 {
		// Revisions known to run up by one: only the first must follow this watcher's last.
		if first := resp.revs[0]; w.lastRev != 0 && first != w.lastRev+1 {
			return false, fmt.Errorf("watch %d: revision %d after %d", resp.watchID, first, w.lastRev)
		}
		w.lastRev = resp.revs[len(resp.revs)-1]
		w.events += len(resp.revs)
	} else {
		if err := w.acceptEach(resp, perWatcher, sendTimes, now); err != nil {
			return false, err
		}
	}
	if len(resp.revs) == 0 || w.events < perWatcher {
		return false, nil
	}
	if w.events > perWatcher {
		return false, fmt.Errorf("watch %d: %d events, expected %d", resp.watchID, w.events, perWatcher)
	}
	return true, nil
}

// acceptEach checks resp's events one by one: each must follow the one before.
func (w *rawWatcher) acceptEach(resp *watchSummary, perWatcher int, sendTimes *sendTimeCache, now time.Time) error {
	for i, rev := range resp.revs {
		if w.lastRev != 0 && rev != w.lastRev+1 {
			return fmt.Errorf("watch %d: revision %d after %d", resp.watchID, rev, w.lastRev)
		}
		w.lastRev = rev
		w.events++
		if sendTimes != nil {
			if w.latencies == nil {
				w.latencies = make([]time.Duration, 0, perWatcher)
			}
			w.latencies = append(w.latencies, now.Sub(sendTimes.at(rev, resp.values[i])))
		}
	}
	return nil
}

// sendTimeCache parses an event value holding a put's send time once per revision: every watcher receives the
// same value for a revision, and parsing it again for each of 10,000 watchers would cost the client more than the
// server spends on the response.
type sendTimeCache struct {
	revision int64
	sent     time.Time
}

func (c *sendTimeCache) at(revision int64, value []byte) time.Time {
	if revision != c.revision {
		nanos, _ := strconv.ParseInt(string(value), 10, 64)
		c.revision, c.sent = revision, time.Unix(0, nanos)
	}
	return c.sent
}

func (rw *rawWatchers) responseCount() int64 { return atomic.LoadInt64(&rw.responses) }

func (rw *rawWatchers) each(visit func(*rawWatcher)) {
	for _, ws := range rw.watchers {
		for _, w := range ws {
			visit(w)
		}
	}
}

// watchGroup is a set of watchers the fan-out scenarios drive: over grpc-go streams (rawWatchers) or over HTTP/2
// directly (h2Watchers).
type watchGroup interface {
	// receive returns once every watcher has perWatcher events, each checked as it arrived, or the first error.
	receive(perWatcher int, timed bool, deadline time.Duration) error
	delivered() int
	responseCount() int64
	each(visit func(*rawWatcher))
	close()
}

// watchersPerStream spreads `*watchers` round-robin over `*streams` streams: how many each stream creates.
func watchersPerStream() []int {
	perStream := make([]int, *streams)
	for i := 0; i < *watchers; i++ {
		perStream[i%*streams]++
	}
	return perStream
}
