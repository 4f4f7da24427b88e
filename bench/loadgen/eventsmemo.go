package main

import (
	"bytes"
	"encoding/binary"
)

// eventsMemo lets a checker skip walking events it has already walked. A server may send many watchers of one
// stream the very same events (Vigil shares one encoding of a catch-up batch between them): the events part of a
// response — everything from its first event on — is compared byte for byte with the ones checked before, and
// when equal, the revisions and values read from that copy are reused. Equal bytes are the same events, so every
// event is still checked; only the varint walk is saved. Belongs to one checker goroutine.
type eventsMemo struct {
	entries map[memoKey]*memoEntry
	// whole holds a message of several pieces put together, where it has to be; pieces is scratch.
	whole  []byte
	pieces [][]byte
	// revs and values are the scratch slices of responses the memo does not keep.
	revs   []int64
	values [][]byte
}

// memoKey narrows the search: the events part's length and its first and last eight bytes.
type memoKey struct {
	length      int
	first, last uint64
}

// memoEntry is one remembered events part: a private copy of its bytes and what its walk read (values point into
// tail).
type memoEntry struct {
	tail       []byte
	revs       []int64
	values     [][]byte
	contiguous bool
}

const (
	// memoMinBytes: smaller events parts (a live single event) are walked; the lookup would cost as much.
	memoMinBytes = 256
	// memoMaxEntries: the memo starts over when it holds this many (catch-up batches change as writes go on).
	memoMaxEntries = 512
)

func keyOf(tail []byte) memoKey {
	return memoKey{length: len(tail), first: binary.LittleEndian.Uint64(tail), last: binary.LittleEndian.Uint64(tail[len(tail)-8:])}
}

// summarize fills s from b like the package-level summarize, through the memo. s's slices may be the memo's:
// read them before the next call, never write them.
func (m *eventsMemo) summarize(b []byte, s *watchSummary) error {
	*s = watchSummary{revs: m.revs[:0], values: m.values[:0]}
	start, err := summarizeFields(b, 0, s, true)
	if err != nil {
		return err
	}
	tail := b[start:]
	if len(tail) < memoMinBytes {
		_, err = summarizeFields(b, start, s, false)
		m.revs, m.values = s.revs, s.values
		return err
	}
	key := keyOf(tail)
	entry := m.entries[key]
	if entry == nil || !bytes.Equal(entry.tail, tail) {
		walked := watchSummary{}
		own := append([]byte(nil), tail...)
		if _, err := summarizeFields(own, 0, &walked, false); err != nil {
			return err
		}
		if walked.otherFields {
			// Not only events after the first one: walk the whole response the plain way.
			_, err = summarizeFields(b, start, s, false)
			m.revs, m.values = s.revs, s.values
			return err
		}
		entry = &memoEntry{tail: own, revs: walked.revs, values: walked.values, contiguous: true}
		for i := 1; i < len(walked.revs); i++ {
			if walked.revs[i] != walked.revs[i-1]+1 {
				entry.contiguous = false
				break
			}
		}
		if m.entries == nil || len(m.entries) >= memoMaxEntries {
			m.entries = make(map[memoKey]*memoEntry)
		}
		m.entries[key] = entry
	}
	s.revs, s.values, s.contiguous = entry.revs, entry.values, entry.contiguous
	return nil
}

// summarizeMessage is summarize for a message in pieces: the fields before its events are read from the first
// piece, and the events part is compared with the remembered ones piece by piece, so a message spanning frames is
// put together (copied) only when it is new.
func (m *eventsMemo) summarizeMessage(c *cutMessage, s *watchSummary) error {
	if len(c.rest) == 0 {
		return m.summarize(c.first.bytes, s)
	}
	*s = watchSummary{revs: m.revs[:0], values: m.values[:0]}
	// The fields before the events, piece by piece (a server may send them in a frame of their own).
	pieces := append(m.pieces[:0], c.first.bytes)
	for _, p := range c.rest {
		pieces = append(pieces, p.bytes)
	}
	m.pieces = pieces
	for len(pieces) > 0 {
		start, err := summarizeFields(pieces[0], 0, s, true)
		if err != nil {
			// A field before the events spans two pieces.
			return m.summarizeWhole(c, s)
		}
		if start < len(pieces[0]) {
			pieces[0] = pieces[0][start:]
			break
		}
		pieces = pieces[1:]
	}
	total := 0
	for _, p := range pieces {
		total += len(p)
	}
	if total < memoMinBytes || len(pieces[0]) < 8 || len(pieces[len(pieces)-1]) < 8 {
		return m.summarizeWhole(c, s)
	}
	last := pieces[len(pieces)-1]
	key := memoKey{length: total, first: binary.LittleEndian.Uint64(pieces[0]),
		last: binary.LittleEndian.Uint64(last[len(last)-8:])}
	entry := m.entries[key]
	if entry == nil || !equalPieces(entry.tail, pieces) {
		return m.summarizeWhole(c, s)
	}
	s.revs, s.values, s.contiguous = entry.revs, entry.values, entry.contiguous
	return nil
}

// summarizeWhole puts c together and summarizes it (remembering its events when they are new).
func (m *eventsMemo) summarizeWhole(c *cutMessage, s *watchSummary) error {
	m.whole = c.appendTo(m.whole[:0])
	return m.summarize(m.whole, s)
}

// equalPieces says whether the pieces, in order, hold exactly b.
func equalPieces(b []byte, pieces [][]byte) bool {
	for _, p := range pieces {
		if len(p) > len(b) || !bytes.Equal(b[:len(p)], p) {
			return false
		}
		b = b[len(p):]
	}
	return len(b) == 0
}
