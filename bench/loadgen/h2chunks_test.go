package main

import "testing"

func TestFeedCutsMessagesAcrossFrames(t *testing.T) {
	var stream []byte
	var bodies [][]byte
	for i, revs := range [][]int64{span(10, 40), {41}, nil, span(42, 100)} {
		body := response(t, int64(i), revs, plain)
		bodies = append(bodies, body)
		stream = appendGRPCMessage(stream, body)
	}
	for _, size := range []int{1, 3, 5, 7, 64, 1000, len(stream)} {
		hc := &h2Conn{spare: make(chan *readChunk, 8), batch: &messageBatch{}}
		st := &h2Stream{}
		chunk := hc.newChunk()
		copy(chunk.buf, stream)
		data := chunk.buf[:len(stream)]
		for len(data) > 0 {
			n := size
			if n > len(data) {
				n = len(data)
			}
			if err := hc.feed(st, chunk, data[:n]); err != nil {
				t.Fatal(err)
			}
			data = data[n:]
		}
		if len(hc.batch.messages) != len(bodies) {
			t.Fatalf("frames of %d: %d messages, want %d", size, len(hc.batch.messages), len(bodies))
		}
		chunk.publish() // as the reader does before handing the batch over
		var releases chunkReleases
		for i := range hc.batch.messages {
			m := &hc.batch.messages[i]
			if got := m.appendTo(nil); string(got) != string(bodies[i]) || m.length() != len(bodies[i]) {
				t.Fatalf("frames of %d: message %d differs", size, i)
			}
			releases.addMessage(m)
		}
		hc.releaseAll(&releases)
		if chunk.refs != 1 {
			t.Fatalf("frames of %d: %d references after the checker's, want the reader's own", size, chunk.refs)
		}
		hc.release(chunk)
		if chunk.refs != 0 || len(hc.spare) != 1 {
			t.Fatalf("frames of %d: chunk references left %d, pooled %d", size, chunk.refs, len(hc.spare))
		}
	}
}
