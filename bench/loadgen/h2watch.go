package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2Watchers drives watchers over Watch streams spoken directly in HTTP/2 (prior knowledge, as gRPC over
// plaintext) instead of through grpc-go. grpc-go 1.33 copies every received DATA payload twice and zeroes a fresh
// buffer per message; at millions of events per second that made the load generator, not the server, the limit of
// the fan-out scenarios. Here, per connection, a reader goroutine reads the socket into large chunks, parses frames
// in place and cuts out each gRPC message as pieces of the chunks (no copy; see h2chunks.go), and a checker
// goroutine checks them, a read's worth at a time, through an eventsMemo: two stages, as a client library would run
// its transport and its application apart. Requests are the generated etcdserverpb messages; responses are checked
// exactly as with grpc-go streams (watchSummary, accept).
type h2Watchers struct {
	conns      []*h2Conn
	perWatcher int
	timed      bool
	// done is closed once every watcher on every connection has all its events; failed carries the first error.
	done      chan struct{}
	failed    chan error
	remaining int64
}

// h2Conn is one HTTP/2 connection and the Watch streams on it. The reader goroutine owns streams' receive state;
// writes (requests, window updates, acks) go through wmu.
type h2Conn struct {
	group *h2Watchers
	conn  net.Conn

	// wmu guards the writing side: framer, encoder, and the send windows (waited on through sendable).
	wmu        sync.Mutex
	sendable   *sync.Cond
	bw         *bufio.Writer
	framer     *http2.Framer
	hbuf       bytes.Buffer
	henc       *hpack.Encoder
	connWindow int64
	// streamWindow is the server's initial stream window, plus what it granted each stream.
	initialWindow int64
	streamWindows map[uint32]int64

	// The streams, filled before the goroutines start. A stream's framing state (pending, unacked) belongs to the
	// reader, its watchers and summary to the checker.
	streams map[uint32]*h2Stream
	// Reader state: the header decoder, connection-level bytes consumed and not yet granted back, the batch being
	// cut from the current read.
	hdec    *hpack.Decoder
	unacked int64
	batch   *messageBatch
	// batches carries cut messages from the reader to the checker; spare returns read chunks for reuse.
	batches chan *messageBatch
	spare   chan *readChunk
	// Checker state: event-carrying responses received (read once the group is done), put send times
	// (fanout-latency), and the creation count.
	responses int64
	sendTimes *sendTimeCache
	memo      eventsMemo
	created   chan error
	toCreate  int64
}

// messageBatch is the gRPC messages completed by one socket read, for the checker.
type messageBatch struct {
	// at is when the read returned: the arrival time of every message in the batch.
	at       time.Time
	messages []cutMessage
}

// h2Stream is one Watch stream's receive state: its partial message, its watchers by ID.
type h2Stream struct {
	id uint32
	// Reader state: the message prefix read so far, the body bytes still to come, the message being cut.
	prefix    [5]byte
	prefixLen int
	need      int
	cut       cutMessage
	unacked   int64
	// watchers holds the stream's watchers by ID: auto-assigned IDs count from 0 on every stream.
	watchers []*rawWatcher
	// expected is how many created responses this stream still waits for.
	expected int
	summary  watchSummary
}

const (
	h2Window     = 16 << 20 // receive window granted per stream and per connection
	h2GrantAfter = 4 << 20  // consumed bytes after which the window is topped up again
)

// openH2Watchers opens `conns` connections, `*streams` Watch streams round-robin over them, and `*watchers`
// watchers on key round-robin over the streams, and waits until each is created. Every watcher must then receive
// perWatcher events.
func openH2Watchers(conns int, key string, perWatcher int, timed bool) (*h2Watchers, error) {
	g := &h2Watchers{perWatcher: perWatcher, timed: timed, done: make(chan struct{}), failed: make(chan error, 2*conns),
		remaining: int64(*watchers)}
	perStream := watchersPerStream()
	for c := 0; c < conns; c++ {
		var counts []int
		for s := c; s < *streams; s += conns {
			counts = append(counts, perStream[s])
		}
		hc, err := dialH2(g, counts)
		if err != nil {
			g.close()
			return nil, err
		}
		g.conns = append(g.conns, hc)
	}
	create, err := (&pb.WatchRequest{RequestUnion: &pb.WatchRequest_CreateRequest{
		CreateRequest: &pb.WatchCreateRequest{Key: []byte(key)}}}).Marshal()
	if err != nil {
		return nil, err
	}
	for _, hc := range g.conns {
		go hc.readLoop()
		go hc.checkLoop()
		for _, st := range hc.streams {
			var body []byte
			for i := 0; i < st.expected; i++ {
				body = appendGRPCMessage(body, create)
			}
			if err := hc.sendData(st.id, body); err != nil {
				g.close()
				return nil, err
			}
		}
	}
	for _, hc := range g.conns {
		select {
		case err := <-hc.created:
			if err != nil {
				g.close()
				return nil, err
			}
		case <-time.After(120 * time.Second):
			g.close()
			return nil, fmt.Errorf("watchers not created in time")
		}
	}
	return g, nil
}

func appendGRPCMessage(b, message []byte) []byte {
	var prefix [5]byte
	binary.BigEndian.PutUint32(prefix[1:], uint32(len(message)))
	return append(append(b, prefix[:]...), message...)
}

// dialH2 connects, sends the preface and settings, and opens one stream per entry of counts (watchers to create).
func dialH2(g *h2Watchers, counts []int) (*h2Conn, error) {
	conn, err := net.DialTimeout("tcp", *endpoint, dialTimeout)
	if err != nil {
		return nil, err
	}
	hc := &h2Conn{group: g, conn: conn, connWindow: 65535, initialWindow: 65535, sendTimes: &sendTimeCache{},
		streamWindows: map[uint32]int64{}, streams: map[uint32]*h2Stream{}, created: make(chan error, 1),
		batches: make(chan *messageBatch, 8), spare: make(chan *readChunk, 8)}
	hc.sendable = sync.NewCond(&hc.wmu)
	hc.bw = bufio.NewWriterSize(conn, 64<<10)
	hc.framer = http2.NewFramer(hc.bw, nil)
	hc.henc = hpack.NewEncoder(&hc.hbuf)
	hc.hdec = hpack.NewDecoder(4096, nil)
	if _, err := hc.bw.WriteString(http2.ClientPreface); err != nil {
		conn.Close()
		return nil, err
	}
	hc.framer.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2Window})
	hc.framer.WriteWindowUpdate(0, h2Window-65535)
	for i, n := range counts {
		id := uint32(2*i + 1)
		hc.streams[id] = &h2Stream{id: id, watchers: make([]*rawWatcher, n), expected: n}
		hc.toCreate += int64(n)
		hc.hbuf.Reset()
		for _, f := range [][2]string{{":method", "POST"}, {":scheme", "http"}, {":path", "/etcdserverpb.Watch/Watch"},
			{":authority", *endpoint}, {"content-type", "application/grpc"}, {"te", "trailers"}} {
			hc.henc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
		}
		if err := hc.framer.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hc.hbuf.Bytes(),
			EndHeaders: true}); err != nil {
			conn.Close()
			return nil, err
		}
	}
	if err := hc.bw.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	return hc, nil
}

// sendData sends body on stream id as DATA frames, within the server's flow-control windows.
func (hc *h2Conn) sendData(id uint32, body []byte) error {
	hc.wmu.Lock()
	defer hc.wmu.Unlock()
	for len(body) > 0 {
		window := hc.connWindow
		if stream := hc.initialWindow + hc.streamWindows[id]; stream < window {
			window = stream
		}
		if window <= 0 {
			hc.sendable.Wait()
			continue
		}
		n := len(body)
		if n > 16384 {
			n = 16384
		}
		if int64(n) > window {
			n = int(window)
		}
		if err := hc.framer.WriteData(id, false, body[:n]); err != nil {
			return err
		}
		if err := hc.bw.Flush(); err != nil {
			return err
		}
		hc.connWindow -= int64(n)
		hc.streamWindows[id] -= int64(n)
		body = body[n:]
	}
	return nil
}

// write runs one framer write and flushes it, under wmu.
func (hc *h2Conn) write(op func(*http2.Framer) error) error {
	hc.wmu.Lock()
	defer hc.wmu.Unlock()
	if err := op(hc.framer); err != nil {
		return err
	}
	return hc.bw.Flush()
}

// readLoop reads the socket in large chunks and handles every complete frame in place until the connection fails
// or closes.
func (hc *h2Conn) readLoop() {
	err := hc.read()
	close(hc.batches)
	hc.wmu.Lock()
	hc.connWindow = 1 << 62 // wake any sender for good: the connection is done
	hc.sendable.Broadcast()
	hc.wmu.Unlock()
	if err != nil {
		select {
		case hc.created <- err:
		default:
		}
		hc.group.failed <- err
	}
}

func (hc *h2Conn) read() error {
	chunk := hc.newChunk()
	start, end := 0, 0
	for {
		if len(chunk.buf)-end < readChunkMinRoom {
			next := hc.newChunk()
			end = copy(next.buf, chunk.buf[start:end])
			start = 0
			chunk.publish()
			hc.release(chunk)
			chunk = next
		}
		n, err := hc.conn.Read(chunk.buf[end:])
		if err != nil {
			if hc.finished() {
				return nil
			}
			return err
		}
		end += n
		hc.batch = &messageBatch{at: time.Now()}
		for end-start >= 9 {
			buf := chunk.buf
			length := int(buf[start])<<16 | int(buf[start+1])<<8 | int(buf[start+2])
			if end-start < 9+length {
				break
			}
			kind, flags := http2.FrameType(buf[start+3]), http2.Flags(buf[start+4])
			id := binary.BigEndian.Uint32(buf[start+5:]) & (1<<31 - 1)
			payload := buf[start+9 : start+9+length]
			start += 9 + length
			if err := hc.frame(kind, flags, id, chunk, payload); err != nil {
				return err
			}
		}
		if len(hc.batch.messages) > 0 {
			chunk.publish()
			hc.batches <- hc.batch
		}
		hc.batch = nil
	}
}

// checkLoop checks the reader's batches in order until the reader stops or a check fails.
func (hc *h2Conn) checkLoop() {
	var releases chunkReleases
	for batch := range hc.batches {
		for i := range batch.messages {
			m := &batch.messages[i]
			err := hc.message(m, batch.at)
			releases.addMessage(m)
			if err != nil {
				hc.group.failed <- err
				hc.conn.Close()
				for range hc.batches {
				}
				return
			}
		}
		hc.releaseAll(&releases)
	}
}

func (hc *h2Conn) finished() bool {
	select {
	case <-hc.group.done:
		return true
	default:
		return false
	}
}

// frame handles one frame, whose payload lies in chunk.
func (hc *h2Conn) frame(kind http2.FrameType, flags http2.Flags, id uint32, chunk *readChunk, payload []byte) error {
	switch kind {
	case http2.FrameData:
		consumed := int64(len(payload))
		if flags.Has(http2.FlagDataPadded) {
			if len(payload) == 0 || int(payload[0]) >= len(payload) {
				return errors.New("bad DATA padding")
			}
			payload = payload[1 : len(payload)-int(payload[0])]
		}
		st := hc.streams[id]
		if st == nil {
			return fmt.Errorf("DATA on unknown stream %d", id)
		}
		if err := hc.feed(st, chunk, payload); err != nil {
			return err
		}
		if flags.Has(http2.FlagDataEndStream) {
			return fmt.Errorf("stream %d ended by the server", id)
		}
		return hc.grant(st, consumed)
	case http2.FrameHeaders, http2.FrameContinuation:
		if kind == http2.FrameHeaders {
			if flags.Has(http2.FlagHeadersPadded) {
				if len(payload) == 0 || int(payload[0]) >= len(payload) {
					return errors.New("bad HEADERS padding")
				}
				payload = payload[1 : len(payload)-int(payload[0])]
			}
			if flags.Has(http2.FlagHeadersPriority) {
				payload = payload[5:]
			}
		}
		var status, message string
		hc.hdec.SetEmitFunc(func(f hpack.HeaderField) {
			switch f.Name {
			case "grpc-status":
				status = f.Value
			case "grpc-message":
				message = f.Value
			}
		})
		if _, err := hc.hdec.Write(payload); err != nil {
			return err
		}
		if flags.Has(http2.FlagHeadersEndHeaders) {
			if err := hc.hdec.Close(); err != nil {
				return err
			}
		}
		if flags.Has(http2.FlagHeadersEndStream) || status != "" {
			return fmt.Errorf("stream %d closed by the server: grpc-status %s %s", id, status, message)
		}
	case http2.FrameRSTStream:
		return fmt.Errorf("stream %d reset by the server", id)
	case http2.FrameGoAway:
		return errors.New("GOAWAY from the server")
	case http2.FrameSettings:
		if flags.Has(http2.FlagSettingsAck) {
			return nil
		}
		hc.wmu.Lock()
		for i := 0; i+6 <= len(payload); i += 6 {
			if http2.SettingID(binary.BigEndian.Uint16(payload[i:])) == http2.SettingInitialWindowSize {
				hc.initialWindow = int64(binary.BigEndian.Uint32(payload[i+2:]))
			}
		}
		hc.sendable.Broadcast()
		hc.wmu.Unlock()
		return hc.write(func(f *http2.Framer) error { return f.WriteSettingsAck() })
	case http2.FramePing:
		if flags.Has(http2.FlagPingAck) {
			return nil
		}
		var data [8]byte
		copy(data[:], payload)
		return hc.write(func(f *http2.Framer) error { return f.WritePing(true, data) })
	case http2.FrameWindowUpdate:
		increment := int64(binary.BigEndian.Uint32(payload) & (1<<31 - 1))
		hc.wmu.Lock()
		if id == 0 {
			hc.connWindow += increment
		} else {
			hc.streamWindows[id] += increment
		}
		hc.sendable.Broadcast()
		hc.wmu.Unlock()
	}
	return nil
}

// grant returns consumed bytes to the server's send windows once enough have been read.
func (hc *h2Conn) grant(st *h2Stream, consumed int64) error {
	st.unacked += consumed
	hc.unacked += consumed
	if st.unacked < h2GrantAfter && hc.unacked < h2GrantAfter {
		return nil
	}
	streamGrant, connGrant := st.unacked, hc.unacked
	st.unacked = 0
	hc.unacked = 0
	return hc.write(func(f *http2.Framer) error {
		if err := f.WriteWindowUpdate(st.id, uint32(streamGrant)); err != nil {
			return err
		}
		return f.WriteWindowUpdate(0, uint32(connGrant))
	})
}

// message checks one WatchResponse of st that arrived at `at` (the checker goroutine).
func (hc *h2Conn) message(m *cutMessage, at time.Time) error {
	st := m.stream
	resp := &st.summary
	if err := hc.memo.summarizeMessage(m, resp); err != nil {
		return fmt.Errorf("stream %d: %v", st.id, err)
	}
	if st.expected > 0 {
		if !resp.created || resp.canceled {
			return fmt.Errorf("stream %d: expected a created response, got %+v", st.id, resp)
		}
		if resp.watchID < 0 || resp.watchID >= int64(len(st.watchers)) || st.watchers[resp.watchID] != nil {
			return fmt.Errorf("stream %d: unexpected watch ID %d", st.id, resp.watchID)
		}
		st.watchers[resp.watchID] = &rawWatcher{}
		st.expected--
		if hc.toCreate--; hc.toCreate == 0 {
			hc.created <- nil
		}
		return nil
	}
	var w *rawWatcher
	if resp.watchID >= 0 && resp.watchID < int64(len(st.watchers)) {
		w = st.watchers[resp.watchID]
	}
	if w == nil || resp.canceled || resp.created {
		return fmt.Errorf("stream %d: unexpected response %+v", st.id, resp)
	}
	hc.responses++
	var sendTimes *sendTimeCache
	if hc.group.timed {
		sendTimes = hc.sendTimes
	}
	finished, err := w.accept(resp, hc.group.perWatcher, sendTimes, at)
	if err != nil {
		return err
	}
	if finished && atomic.AddInt64(&hc.group.remaining, -1) == 0 {
		close(hc.group.done)
	}
	return nil
}

// receive waits until every watcher has its events (checked as they arrive), or the first error, or the deadline.
func (g *h2Watchers) receive(perWatcher int, timed bool, deadline time.Duration) error {
	if perWatcher != g.perWatcher || timed != g.timed {
		return errors.New("h2Watchers: receive must match open")
	}
	select {
	case <-g.done:
		return nil
	case err := <-g.failed:
		return err
	case <-time.After(deadline):
		return fmt.Errorf("not every event arrived in %v: %d of %d", deadline, g.delivered(), perWatcher**watchers)
	}
}

// delivered counts the events received so far (exact once receive has returned).
func (g *h2Watchers) delivered() int {
	n := 0
	g.each(func(w *rawWatcher) { n += w.events })
	return n
}

// responseCount counts the event-carrying responses received (exact once receive has returned).
func (g *h2Watchers) responseCount() int64 {
	var n int64
	for _, hc := range g.conns {
		n += hc.responses
	}
	return n
}

func (g *h2Watchers) each(visit func(*rawWatcher)) {
	for _, hc := range g.conns {
		for _, st := range hc.streams {
			for _, w := range st.watchers {
				visit(w)
			}
		}
	}
}

func (g *h2Watchers) close() {
	for _, hc := range g.conns {
		hc.conn.Close()
	}
}
