// Command loadgen drives an etcd-compatible server with the stock Go clientv3 and prints one JSON line of results.
// It verifies what it measures: every expected event must arrive, or it exits non-zero.
//
// Builds offline from Debian's golang-etcd-server-dev:
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o loadgen .
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

var (
	endpoint    = flag.String("endpoint", "127.0.0.1:2379", "server address")
	mode        = flag.String("mode", "put", "put | range | range-prefix | fanout | fanout-latency | idle | catchup")
	clients     = flag.Int("clients", 1, "concurrent clients (put, range)")
	total       = flag.Int("n", 10000, "requests (put, range) or revisions (fanout, catchup)")
	watchers    = flag.Int("watchers", 100, "watchers (fanout, idle)")
	streams     = flag.Int("streams", 4, "watch streams the watchers are spread over")
	inflight    = flag.Int("inflight", 1, "puts the one writer keeps in flight (raw fanout)")
	conns       = flag.Int("conns", 1, "connections the raw watch streams are spread over (fanout, fanout-latency)")
	rate        = flag.Int("rate", 10, "puts per second (fanout-latency)")
	pid         = flag.Int("pid", 0, "server pid, to read its RSS (idle)")
	valueSize   = flag.Int("value-size", 256, "value bytes")
	watchClient = flag.String("watch-client", "h2", "h2 (Watch streams in HTTP/2 without grpc-go) | raw (etcdserverpb.Watch streams through grpc-go) | clientv3 (fanout, fanout-latency)")
	dialTimeout = 5 * time.Second
)

func main() {
	flag.Parse()
	var result map[string]interface{}
	var err error
	switch *mode {
	case "put":
		result, err = benchPut()
	case "range", "range-prefix":
		result, err = benchRange(*mode == "range-prefix")
	case "fanout":
		if *watchClient != "clientv3" {
			result, err = benchFanoutRaw(false)
		} else {
			result, err = benchFanout()
		}
	case "fanout-latency":
		if *watchClient != "clientv3" {
			result, err = benchFanoutRaw(true)
		} else {
			result, err = benchFanoutLatency()
		}
	case "idle":
		result, err = benchIdle()
	case "catchup":
		result, err = benchCatchup()
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	result["mode"] = *mode
	out, _ := json.Marshal(result)
	fmt.Println(string(out))
}

func newClient() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: dialTimeout,
		MaxCallRecvMsgSize: 1 << 30})
}

func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	index := int(float64(len(sorted)-1) * p)
	return float64(sorted[index].Microseconds()) / 1000
}

func latencySummary(samples []time.Duration, elapsed time.Duration) map[string]interface{} {
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	var sum time.Duration
	for _, s := range samples {
		sum += s
	}
	mean := 0.0
	if len(samples) > 0 {
		mean = float64(sum.Microseconds()) / 1000 / float64(len(samples))
	}
	return map[string]interface{}{
		"ops": len(samples), "seconds": elapsed.Seconds(), "ops_per_sec": float64(len(samples)) / elapsed.Seconds(),
		"p50_ms": percentile(samples, 0.50), "p90_ms": percentile(samples, 0.90), "p99_ms": percentile(samples, 0.99),
		"p999_ms": percentile(samples, 0.999), "mean_ms": mean,
	}
}

// runClients runs `perClient` operations on each of `clients` connections and collects every latency.
func runClients(op func(c *clientv3.Client, worker, i int) error) (map[string]interface{}, error) {
	conns := make([]*clientv3.Client, *clients)
	for i := range conns {
		c, err := newClient()
		if err != nil {
			return nil, err
		}
		defer c.Close()
		conns[i] = c
	}
	perClient := *total / *clients
	latencies := make([][]time.Duration, *clients)
	var wg sync.WaitGroup
	var failure atomic.Value
	start := time.Now()
	for w := 0; w < *clients; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			samples := make([]time.Duration, 0, perClient)
			for i := 0; i < perClient; i++ {
				t := time.Now()
				if err := op(conns[w], w, i); err != nil {
					failure.Store(err)
					return
				}
				samples = append(samples, time.Since(t))
			}
			latencies[w] = samples
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err, ok := failure.Load().(error); ok {
		return nil, err
	}
	var all []time.Duration
	for _, s := range latencies {
		all = append(all, s...)
	}
	result := latencySummary(all, elapsed)
	result["clients"] = *clients
	return result, nil
}

func benchPut() (map[string]interface{}, error) {
	value := strings.Repeat("v", *valueSize)
	return runClients(func(c *clientv3.Client, worker, i int) error {
		key := make([]byte, 8)
		binary.BigEndian.PutUint32(key, uint32(worker))
		binary.BigEndian.PutUint32(key[4:], uint32(i))
		_, err := c.Put(context.Background(), string(key), value)
		return err
	})
}

func benchRange(prefix bool) (map[string]interface{}, error) {
	c, err := newClient()
	if err != nil {
		return nil, err
	}
	value := strings.Repeat("v", *valueSize)
	for i := 0; i < 100; i++ {
		if _, err := c.Put(context.Background(), fmt.Sprintf("range/%03d", i), value); err != nil {
			return nil, err
		}
	}
	c.Close()
	return runClients(func(c *clientv3.Client, worker, i int) error {
		if prefix {
			resp, err := c.Get(context.Background(), "range/", clientv3.WithPrefix())
			if err == nil && len(resp.Kvs) != 100 {
				err = fmt.Errorf("prefix range returned %d keys", len(resp.Kvs))
			}
			return err
		}
		resp, err := c.Get(context.Background(), "range/042")
		if err == nil && len(resp.Kvs) != 1 {
			err = fmt.Errorf("range returned %d keys", len(resp.Kvs))
		}
		return err
	})
}

// openWatchers creates `*watchers` watchers on `key` spread over `*streams` gRPC streams (clientv3 puts watchers
// with different outgoing metadata on different streams) and waits until every one is created.
func openWatchers(c *clientv3.Client, key string, opts ...clientv3.OpOption) ([]clientv3.WatchChan, error) {
	chans := make([]clientv3.WatchChan, *watchers)
	for i := 0; i < *watchers; i++ {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "stream", strconv.Itoa(i%*streams))
		chans[i] = c.Watch(ctx, key, append(opts, clientv3.WithCreatedNotify())...)
	}
	for i, ch := range chans {
		select {
		case resp := <-ch:
			if !resp.Created {
				return nil, fmt.Errorf("watcher %d: first response is not created", i)
			}
		case <-time.After(60 * time.Second):
			return nil, fmt.Errorf("watcher %d not created in time", i)
		}
	}
	return chans, nil
}

func benchFanout() (map[string]interface{}, error) {
	c, err := newClient()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	chans, err := openWatchers(c, "fanout")
	if err != nil {
		return nil, err
	}
	var delivered int64
	var wg sync.WaitGroup
	var failure atomic.Value
	for _, ch := range chans {
		wg.Add(1)
		go func(ch clientv3.WatchChan) {
			defer wg.Done()
			var last int64
			got := 0
			for got < *total {
				resp, ok := <-ch
				if !ok {
					failure.Store(fmt.Errorf("watch channel closed after %d events", got))
					return
				}
				for _, ev := range resp.Events {
					if ev.Kv.ModRevision <= last {
						failure.Store(fmt.Errorf("event out of order"))
					}
					last = ev.Kv.ModRevision
					got++
				}
			}
			atomic.AddInt64(&delivered, int64(got))
		}(ch)
	}
	writer, err := newClient()
	if err != nil {
		return nil, err
	}
	defer writer.Close()
	value := strings.Repeat("v", *valueSize)
	start := time.Now()
	for i := 0; i < *total; i++ {
		if _, err := writer.Put(context.Background(), "fanout", value); err != nil {
			return nil, err
		}
	}
	putsDone := time.Since(start)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		return nil, fmt.Errorf("not every event arrived: %d of %d", atomic.LoadInt64(&delivered), *total**watchers)
	}
	elapsed := time.Since(start)
	if err, ok := failure.Load().(error); ok {
		return nil, err
	}
	if delivered != int64(*total**watchers) {
		return nil, fmt.Errorf("delivered %d events, expected %d", delivered, *total**watchers)
	}
	return map[string]interface{}{
		"watchers": *watchers, "streams": *streams, "revisions": *total, "events": delivered,
		"seconds": elapsed.Seconds(), "events_per_sec": float64(delivered) / elapsed.Seconds(),
		"puts_per_sec": float64(*total) / putsDone.Seconds(),
	}, nil
}

func benchFanoutLatency() (map[string]interface{}, error) {
	c, err := newClient()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	chans, err := openWatchers(c, "latency")
	if err != nil {
		return nil, err
	}
	samples := make([][]time.Duration, len(chans))
	var wg sync.WaitGroup
	var failure atomic.Value
	for w, ch := range chans {
		wg.Add(1)
		go func(w int, ch clientv3.WatchChan) {
			defer wg.Done()
			for got := 0; got < *total; {
				resp, ok := <-ch
				if !ok {
					failure.Store(fmt.Errorf("watch channel closed"))
					return
				}
				now := time.Now()
				for _, ev := range resp.Events {
					sent, _ := strconv.ParseInt(string(ev.Kv.Value), 10, 64)
					samples[w] = append(samples[w], now.Sub(time.Unix(0, sent)))
					got++
				}
			}
		}(w, ch)
	}
	writer, err := newClient()
	if err != nil {
		return nil, err
	}
	defer writer.Close()
	if err := warmUp(writer, "latency"); err != nil {
		return nil, err
	}
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	for i := 0; i < *total; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		if _, err := writer.Put(context.Background(), "latency", strconv.FormatInt(time.Now().UnixNano(), 10)); err != nil {
			return nil, err
		}
	}
	wg.Wait()
	if err, ok := failure.Load().(error); ok {
		return nil, err
	}
	var all []time.Duration
	for _, s := range samples {
		all = append(all, s...)
	}
	if len(all) != *total**watchers {
		return nil, fmt.Errorf("received %d events, expected %d", len(all), *total**watchers)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	return map[string]interface{}{
		"watchers": *watchers, "streams": *streams, "rate": *rate, "events": len(all),
		"p50_ms": percentile(all, 0.5), "p99_ms": percentile(all, 0.99),
	}, nil
}

// benchFanoutRaw is fanout (or, with timed, fanout-latency) over raw Watch streams: the writer puts flat out, or
// at `*rate` puts per second with its send time as the value, and every watcher must receive every put's event.
func benchFanoutRaw(timed bool) (map[string]interface{}, error) {
	key := "fanout"
	if timed {
		key = "latency"
	}
	var rw watchGroup
	if *watchClient == "h2" {
		group, err := openH2Watchers(*conns, key, *total, timed)
		if err != nil {
			return nil, err
		}
		rw = group
	} else {
		var connections []*grpc.ClientConn
		for i := 0; i < *conns; i++ {
			c, err := newClient()
			if err != nil {
				return nil, err
			}
			defer c.Close()
			connections = append(connections, c.ActiveConnection())
		}
		group, err := openRawWatchers(connections, key)
		if err != nil {
			return nil, err
		}
		rw = group
	}
	defer rw.close()
	received := make(chan error, 1)
	go func() { received <- rw.receive(*total, timed, 10*time.Minute) }()
	writer, err := newClient()
	if err != nil {
		return nil, err
	}
	defer writer.Close()
	if timed {
		if err := warmUp(writer, key); err != nil {
			return nil, err
		}
	}
	value := strings.Repeat("v", *valueSize)
	interval := time.Second / time.Duration(*rate)
	start := time.Now()
	if timed {
		for i := 0; i < *total; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
			value = strconv.FormatInt(time.Now().UnixNano(), 10)
			if _, err := writer.Put(context.Background(), key, value); err != nil {
				return nil, err
			}
		}
	} else if err := putFlatOut(writer, key, value, *total, *inflight); err != nil {
		return nil, err
	}
	putsDone := time.Since(start)
	if err := <-received; err != nil {
		return nil, err
	}
	elapsed := time.Since(start)
	delivered := rw.delivered()
	if delivered != *total**watchers {
		return nil, fmt.Errorf("delivered %d events, expected %d", delivered, *total**watchers)
	}
	result := map[string]interface{}{
		"watchers": *watchers, "streams": *streams, "revisions": *total, "events": delivered, "client": *watchClient,
		"responses": rw.responseCount(), "conns": *conns,
	}
	if !timed {
		result["inflight"] = *inflight
	}
	if timed {
		var all []time.Duration
		rw.each(func(w *rawWatcher) { all = append(all, w.latencies...) })
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		result["rate"] = *rate
		result["p50_ms"] = percentile(all, 0.5)
		result["p99_ms"] = percentile(all, 0.99)
		result["max_ms"] = percentile(all, 1.0)
	} else {
		result["seconds"] = elapsed.Seconds()
		result["events_per_sec"] = float64(delivered) / elapsed.Seconds()
		result["puts_per_sec"] = float64(*total) / putsDone.Seconds()
	}
	return result, nil
}

// warmUp makes one put through the writer, on a key next to `key` that nobody watches, before the measured puts:
// the clients dial lazily, so the first put would otherwise also time the connection's set-up (TCP, HTTP/2
// SETTINGS), which is not put→event latency.
func warmUp(writer *clientv3.Client, key string) error {
	_, err := writer.Put(context.Background(), key+"-warm-up", "0")
	return err
}

// putFlatOut makes n puts of value to key through one client, keeping `inflight` of them outstanding at a time.
func putFlatOut(writer *clientv3.Client, key, value string, n, inflight int) error {
	var next int64
	errs := make(chan error, inflight)
	for g := 0; g < inflight; g++ {
		go func() {
			for atomic.AddInt64(&next, 1) <= int64(n) {
				if _, err := writer.Put(context.Background(), key, value); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for g := 0; g < inflight; g++ {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func rssBytes(pid int) (int64, error) {
	data, err := ioutil.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			fields := strings.Fields(line)
			kb, _ := strconv.ParseInt(fields[1], 10, 64)
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

func benchIdle() (map[string]interface{}, error) {
	c, err := newClient()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	// Warm the connection and one stream so the baseline includes them.
	if _, err := c.Put(context.Background(), "idle-warmup", "x"); err != nil {
		return nil, err
	}
	time.Sleep(500 * time.Millisecond)
	before, err := rssBytes(*pid)
	if err != nil {
		return nil, err
	}
	chans := make([]clientv3.WatchChan, *watchers)
	for i := 0; i < *watchers; i++ {
		ctx := metadata.AppendToOutgoingContext(context.Background(), "stream", strconv.Itoa(i%*streams))
		chans[i] = c.Watch(ctx, fmt.Sprintf("idle/%06d", i), clientv3.WithCreatedNotify())
	}
	for i, ch := range chans {
		select {
		case resp := <-ch:
			if !resp.Created {
				return nil, fmt.Errorf("watcher %d not created", i)
			}
		case <-time.After(120 * time.Second):
			return nil, fmt.Errorf("watcher %d not created in time", i)
		}
	}
	time.Sleep(time.Second)
	after, err := rssBytes(*pid)
	if err != nil {
		return nil, err
	}
	return map[string]interface{}{
		"watchers": *watchers, "streams": *streams, "rss_before": before, "rss_after": after,
		"bytes_per_watcher": float64(after-before) / float64(*watchers),
	}, nil
}

func benchCatchup() (map[string]interface{}, error) {
	c, err := newClient()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	value := strings.Repeat("v", 64)
	first := int64(0)
	for i := 0; i < *total; i++ {
		resp, err := c.Put(context.Background(), "catchup", value)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = resp.Header.Revision
		}
	}
	start := time.Now()
	ch := c.Watch(context.Background(), "catchup", clientv3.WithRev(first))
	expected := first
	for got := 0; got < *total; {
		select {
		case resp, ok := <-ch:
			if !ok {
				return nil, fmt.Errorf("watch closed after %d events", got)
			}
			for _, ev := range resp.Events {
				if ev.Kv.ModRevision != expected {
					return nil, fmt.Errorf("event at %d, expected %d", ev.Kv.ModRevision, expected)
				}
				expected++
				got++
			}
		case <-time.After(5 * time.Minute):
			return nil, fmt.Errorf("catch-up stalled after %d events", got)
		}
	}
	elapsed := time.Since(start)
	return map[string]interface{}{
		"events": *total, "seconds": elapsed.Seconds(), "events_per_sec": float64(*total) / elapsed.Seconds(),
	}, nil
}
