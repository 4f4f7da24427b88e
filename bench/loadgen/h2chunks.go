package main

import (
	"encoding/binary"
	"errors"
	"sync/atomic"
)

// readChunk is a buffer the reader reads the socket into. Messages go to the checker as pieces of it, not as
// copies; it returns to its connection's pool once the reader has moved to another chunk and every piece of it
// was checked.
type readChunk struct {
	buf []byte
	// refs counts the reader's own reference (while it reads into the chunk) and one per piece handed out. Changed
	// atomically, and in bulk: the reader adds a read's pieces before it hands their batch over, the checker
	// releases a batch's pieces once it has checked them all (an atomic operation per message, on a line both
	// goroutines write, had cost a fifth of the client in the latency scenario).
	refs int32
	// cut counts pieces cut from the chunk and not yet added to refs. The reader's alone.
	cut int32
}

const (
	// readChunkSize is the size of a read chunk.
	readChunkSize = 2 << 20
	// readChunkMinRoom: with less room than this left, the reader moves to a fresh chunk, copying over only the
	// partial frame at the end of the old one.
	readChunkMinRoom = 256 << 10
)

// piece is a run of a message's bytes within one read chunk.
type piece struct {
	chunk *readChunk
	bytes []byte
}

// cutMessage is one gRPC message for the checker: its stream and its body, in order, as pieces of read chunks (most
// messages are one piece; one that spans DATA frames is several).
type cutMessage struct {
	stream *h2Stream
	first  piece
	rest   []piece
}

// length is the message's body length.
func (m *cutMessage) length() int {
	n := len(m.first.bytes)
	for _, p := range m.rest {
		n += len(p.bytes)
	}
	return n
}

// appendTo appends the message body to b.
func (m *cutMessage) appendTo(b []byte) []byte {
	b = append(b, m.first.bytes...)
	for _, p := range m.rest {
		b = append(b, p.bytes...)
	}
	return b
}

// newChunk returns a chunk from the pool (or a new one) holding the reader's reference.
func (hc *h2Conn) newChunk() *readChunk {
	var c *readChunk
	select {
	case c = <-hc.spare:
	default:
		c = &readChunk{buf: make([]byte, readChunkSize)}
	}
	atomic.StoreInt32(&c.refs, 1)
	return c
}

// publish adds the pieces cut from c since the last call to its references: before their batch is handed over,
// and before the reader drops its own reference.
func (c *readChunk) publish() {
	if c.cut != 0 {
		atomic.AddInt32(&c.refs, c.cut)
		c.cut = 0
	}
}

// release drops one reference to c; the last returns it to the pool.
func (hc *h2Conn) release(c *readChunk) {
	hc.releaseN(c, 1)
}

// releaseN drops n references to c.
func (hc *h2Conn) releaseN(c *readChunk, n int32) {
	if c == nil || atomic.AddInt32(&c.refs, -n) != 0 {
		return
	}
	select {
	case hc.spare <- c:
	default:
	}
}

// chunkReleases collects the references a batch's pieces hold, per chunk, to drop them together.
type chunkReleases []struct {
	chunk *readChunk
	n     int32
}

func (r *chunkReleases) add(c *readChunk) {
	if c == nil {
		return
	}
	for i := range *r {
		if (*r)[i].chunk == c {
			(*r)[i].n++
			return
		}
	}
	*r = append(*r, struct {
		chunk *readChunk
		n     int32
	}{c, 1})
}

// addMessage collects the references m's pieces hold.
func (r *chunkReleases) addMessage(m *cutMessage) {
	r.add(m.first.chunk)
	for _, p := range m.rest {
		r.add(p.chunk)
	}
}

// releaseAll drops every collected reference and empties r.
func (hc *h2Conn) releaseAll(r *chunkReleases) {
	for _, e := range *r {
		hc.releaseN(e.chunk, e.n)
	}
	*r = (*r)[:0]
}

// feed takes a DATA payload of st (lying in chunk) and cuts its gRPC messages: the 5-byte prefixes are read (and
// kept across frames), the bodies handed on as pieces of the chunk. A message completed here joins the batch.
func (hc *h2Conn) feed(st *h2Stream, chunk *readChunk, payload []byte) error {
	for len(payload) > 0 {
		if st.prefixLen < len(st.prefix) {
			n := copy(st.prefix[st.prefixLen:], payload)
			st.prefixLen += n
			payload = payload[n:]
			if st.prefixLen < len(st.prefix) {
				return nil
			}
			if st.prefix[0] != 0 {
				return errors.New("compressed message")
			}
			st.need = int(binary.BigEndian.Uint32(st.prefix[1:]))
			st.cut = cutMessage{stream: st}
			if st.need == 0 {
				hc.complete(st)
			}
			continue
		}
		n := st.need
		if n > len(payload) {
			n = len(payload)
		}
		chunk.cut++
		p := piece{chunk, payload[:n:n]}
		if st.cut.first.chunk == nil {
			st.cut.first = p
		} else {
			st.cut.rest = append(st.cut.rest, p)
		}
		st.need -= n
		payload = payload[n:]
		if st.need == 0 {
			hc.complete(st)
		}
	}
	return nil
}

// complete hands st's finished message to the batch and starts the next one.
func (hc *h2Conn) complete(st *h2Stream) {
	hc.batch.messages = append(hc.batch.messages, st.cut)
	st.cut = cutMessage{}
	st.prefixLen = 0
}
