package main

import (
	"errors"
	"fmt"
)

// rawCodec sends requests with their generated Marshal, and hands responses over as raw bytes (into a *[]byte)
// for watchResponseWalker, instead of building a WatchResponse with its events on the heap: the load generator's
// cost per received event must stay well below a server's, or fan-out figures measure the client.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v interface{}) ([]byte, error) {
	m, ok := v.(interface{ Marshal() ([]byte, error) })
	if !ok {
		return nil, fmt.Errorf("rawCodec: cannot marshal %T", v)
	}
	return m.Marshal()
}

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	switch target := v.(type) {
	case *[]byte:
		*target = data
		return nil
	case interface{ Unmarshal([]byte) error }:
		return target.Unmarshal(data)
	}
	return fmt.Errorf("rawCodec: cannot unmarshal into %T", v)
}

// watchSummary is what the load generator checks of one WatchResponse: its watch ID, flags, and each event's
// mod_revision and value (in order).
type watchSummary struct {
	watchID  int64
	created  bool
	canceled bool
	revs     []int64
	values   [][]byte
	// contiguous says revs run up by one (set only by eventsMemo, which works it out once per distinct batch).
	contiguous bool
	// otherFields says fields other than events came after the first event.
	otherFields bool
}

var errTruncated = errors.New("truncated protobuf")

func readVarint(b []byte, i int) (uint64, int, error) {
	var v uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if i >= len(b) {
			return 0, 0, errTruncated
		}
		c := b[i]
		i++
		v |= uint64(c&0x7f) << shift
		if c < 0x80 {
			return v, i, nil
		}
	}
	return 0, 0, errors.New("varint overflow")
}

// skipField returns the position after the value of a field of wire type wire starting at i, and for wire type 0
// its value, for wire type 2 its bytes' bounds. The walkers below inline readVarint and call this only for fields
// they do not read: the load generator walks every received event, so its cost per event must stay far below a
// server's.
func skipField(b []byte, i, wire int) (int, error) {
	switch wire {
	case 0:
		_, next, err := readVarint(b, i)
		return next, err
	case 2:
		n, next, err := readVarint(b, i)
		if err != nil {
			return 0, err
		}
		if end := next + int(n); end <= len(b) && end >= next {
			return end, nil
		}
		return 0, errTruncated
	case 1:
		i += 8
	case 5:
		i += 4
	default:
		return 0, fmt.Errorf("unexpected wire type %d", wire)
	}
	if i > len(b) {
		return 0, errTruncated
	}
	return i, nil
}

// lengthDelimited reads the length of a wire-type-2 field at i and returns its bounds.
func lengthDelimited(b []byte, i int) (int, int, error) {
	n, start, err := readVarint(b, i)
	if err != nil {
		return 0, 0, err
	}
	end := start + int(n)
	if end > len(b) || end < start {
		return 0, 0, errTruncated
	}
	return start, end, nil
}

// summarize walks a WatchResponse (etcdserverpb: watch_id 2, created 3, canceled 4, events 11; mvccpb.Event: kv
// 2; mvccpb.KeyValue: mod_revision 3, value 5), reusing s's slices.
func summarize(b []byte, s *watchSummary) error {
	*s = watchSummary{revs: s.revs[:0], values: s.values[:0]}
	_, err := summarizeFields(b, 0, s, false)
	return err
}

// summarizeFields walks the fields of b from i into s and returns where it stopped: at the end of b, or — when
// stopAtEvents — at the first event's tag.
func summarizeFields(b []byte, i int, s *watchSummary, stopAtEvents bool) (int, error) {
	for i < len(b) {
		tag, next, err := readVarint(b, i)
		if err != nil {
			return 0, err
		}
		field, wire := tag>>3, int(tag&7)
		switch {
		case wire == 0 && field >= 2 && field <= 4:
			v, after, err := readVarint(b, next)
			if err != nil {
				return 0, err
			}
			i = after
			switch field {
			case 2:
				s.watchID = int64(v)
			case 3:
				s.created = v != 0
			case 4:
				s.canceled = v != 0
			}
		case field == 11 && wire == 2:
			if stopAtEvents {
				return i, nil
			}
			start, end, err := lengthDelimited(b, next)
			if err != nil {
				return 0, err
			}
			rev, value, err := eventRevision(b[start:end])
			if err != nil {
				return 0, err
			}
			s.revs = append(s.revs, rev)
			s.values = append(s.values, value)
			i = end
		default:
			if i, err = skipField(b, next, wire); err != nil {
				return 0, err
			}
		}
		if field != 11 && len(s.revs) > 0 {
			s.otherFields = true
		}
	}
	return i, nil
}

// eventRevision reads an mvccpb.Event's kv.mod_revision and kv.value.
func eventRevision(b []byte) (rev int64, value []byte, err error) {
	for i := 0; i < len(b); {
		tag, next, err := readVarint(b, i)
		if err != nil {
			return 0, nil, err
		}
		i = next
		if tag != 2<<3|2 {
			if i, err = skipField(b, i, int(tag&7)); err != nil {
				return 0, nil, err
			}
			continue
		}
		start, end, err := lengthDelimited(b, i)
		if err != nil {
			return 0, nil, err
		}
		i = end
		for j := start; j < end; {
			tag, next, err := readVarint(b[:end], j)
			if err != nil {
				return 0, nil, err
			}
			j = next
			switch tag {
			case 3 << 3: // mod_revision
				v, next, err := readVarint(b[:end], j)
				if err != nil {
					return 0, nil, err
				}
				rev, j = int64(v), next
			case 5<<3 | 2: // value
				valueStart, valueEnd, err := lengthDelimited(b[:end], j)
				if err != nil {
					return 0, nil, err
				}
				value, j = b[valueStart:valueEnd], valueEnd
			default:
				if j, err = skipField(b[:end], j, int(tag&7)); err != nil {
					return 0, nil, err
				}
			}
		}
	}
	return rev, value, nil
}
