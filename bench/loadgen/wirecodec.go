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

// walkFields calls visit for each field of the message in b: its number, wire type, varint value (wire type 0)
// or bytes (wire type 2).
func walkFields(b []byte, visit func(field int, wire int, varint uint64, bytes []byte) error) error {
	for i := 0; i < len(b); {
		tag, next, err := readVarint(b, i)
		if err != nil {
			return err
		}
		i = next
		field, wire := int(tag>>3), int(tag&7)
		switch wire {
		case 0:
			v, next, err := readVarint(b, i)
			if err != nil {
				return err
			}
			i = next
			if err := visit(field, wire, v, nil); err != nil {
				return err
			}
		case 2:
			n, next, err := readVarint(b, i)
			if err != nil {
				return err
			}
			end := next + int(n)
			if end > len(b) || end < next {
				return errTruncated
			}
			if err := visit(field, wire, 0, b[next:end]); err != nil {
				return err
			}
			i = end
		case 1:
			i += 8
		case 5:
			i += 4
		default:
			return fmt.Errorf("unexpected wire type %d", wire)
		}
	}
	return nil
}

// summarize walks a WatchResponse (etcdserverpb: watch_id 2, created 3, canceled 4, events 11; mvccpb.Event: kv
// 2; mvccpb.KeyValue: mod_revision 3, value 5), reusing s's slices.
func summarize(b []byte, s *watchSummary) error {
	*s = watchSummary{revs: s.revs[:0], values: s.values[:0]}
	return walkFields(b, func(field, wire int, varint uint64, bytes []byte) error {
		switch {
		case field == 2 && wire == 0:
			s.watchID = int64(varint)
		case field == 3 && wire == 0:
			s.created = varint != 0
		case field == 4 && wire == 0:
			s.canceled = varint != 0
		case field == 11 && wire == 2:
			var rev int64
			var value []byte
			err := walkFields(bytes, func(field, wire int, _ uint64, kv []byte) error {
				if field != 2 || wire != 2 {
					return nil
				}
				return walkFields(kv, func(field, wire int, varint uint64, bytes []byte) error {
					if field == 3 && wire == 0 {
						rev = int64(varint)
					} else if field == 5 && wire == 2 {
						value = bytes
					}
					return nil
				})
			})
			if err != nil {
				return err
			}
			s.revs = append(s.revs, rev)
			s.values = append(s.values, value)
		}
		return nil
	})
}
