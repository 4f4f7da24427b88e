package main

import (
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/etcdserver/etcdserverpb"
	"go.etcd.io/etcd/mvcc/mvccpb"
)

// response encodes a WatchResponse of watchID with one PUT event per revision in revs, each value from values.
func response(t *testing.T, watchID int64, revs []int64, value func(rev int64) string) []byte {
	t.Helper()
	r := &pb.WatchResponse{Header: &pb.ResponseHeader{Revision: 100}, WatchId: watchID}
	for _, rev := range revs {
		r.Events = append(r.Events, &mvccpb.Event{Kv: &mvccpb.KeyValue{
			Key: []byte("fanout-key"), CreateRevision: 2, ModRevision: rev, Version: rev - 1, Value: []byte(value(rev))}})
	}
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func span(first, last int64) []int64 {
	var revs []int64
	for rev := first; rev <= last; rev++ {
		revs = append(revs, rev)
	}
	return revs
}

// s0 is the arrival time handed to accept where latencies are not recorded.
var s0 time.Time

func plain(rev int64) string { return strings.Repeat("v", 20) }

func TestMemoReusesIdenticalEventsAcrossWatchers(t *testing.T) {
	var memo eventsMemo
	var s watchSummary
	for id := int64(0); id < 3; id++ {
		if err := memo.summarize(response(t, id, span(10, 40), plain), &s); err != nil {
			t.Fatal(err)
		}
		if s.watchID != id || len(s.revs) != 31 || s.revs[0] != 10 || s.revs[30] != 40 || !s.contiguous {
			t.Fatalf("watch %d: got %+v", id, s)
		}
	}
	if len(memo.entries) != 1 {
		t.Fatalf("expected one remembered batch, got %d", len(memo.entries))
	}
}

func TestMemoComparesEveryByte(t *testing.T) {
	// Same length, same first and last bytes: only one value in the middle differs, so the lookup key collides.
	var memo eventsMemo
	var s watchSummary
	if err := memo.summarize(response(t, 1, span(10, 40), plain), &s); err != nil {
		t.Fatal(err)
	}
	changed := func(rev int64) string {
		if rev == 25 {
			return strings.Repeat("w", 20)
		}
		return plain(rev)
	}
	if err := memo.summarize(response(t, 2, span(10, 40), changed), &s); err != nil {
		t.Fatal(err)
	}
	if got := string(s.values[15]); got != changed(25) {
		t.Fatalf("the changed event's value was taken from the memo: %q", got)
	}
}

func TestMemoReportsGapsAndSmallResponsesAreWalked(t *testing.T) {
	var memo eventsMemo
	var s watchSummary
	withGap := append(span(10, 20), span(22, 40)...)
	if err := memo.summarize(response(t, 0, withGap, plain), &s); err != nil {
		t.Fatal(err)
	}
	if s.contiguous {
		t.Fatal("a batch with a gap was marked contiguous")
	}
	w := &rawWatcher{lastRev: 9}
	if _, err := w.accept(&s, 1000, nil, s0); err == nil || !strings.Contains(err.Error(), "revision 22 after 20") {
		t.Fatalf("the gap was not reported: %v", err)
	}

	if err := memo.summarize(response(t, 0, []int64{41}, plain), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.revs) != 1 || s.revs[0] != 41 || s.contiguous {
		t.Fatalf("small response: %+v", s)
	}
}

func TestContiguousBatchMustFollowTheWatchersLastRevision(t *testing.T) {
	var memo eventsMemo
	var s watchSummary
	if err := memo.summarize(response(t, 0, span(12, 40), plain), &s); err != nil {
		t.Fatal(err)
	}
	if _, err := (&rawWatcher{lastRev: 10}).accept(&s, 1000, nil, s0); err == nil {
		t.Fatal("a batch starting after a gap was accepted")
	}
	if _, err := (&rawWatcher{lastRev: 12}).accept(&s, 1000, nil, s0); err == nil {
		t.Fatal("a batch repeating a revision was accepted")
	}
	w := &rawWatcher{lastRev: 11, events: 10}
	finished, err := w.accept(&s, 39, nil, s0)
	if err != nil || !finished || w.lastRev != 40 || w.events != 39 {
		t.Fatalf("finished %v err %v watcher %+v", finished, err, w)
	}
}

func TestFieldsAfterTheEventsAreRead(t *testing.T) {
	b := response(t, 0, span(10, 40), plain)
	b = append(b, 2<<3, 7) // watch_id 7, after the events
	var memo eventsMemo
	var s watchSummary
	if err := memo.summarize(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.watchID != 7 || len(s.revs) != 31 {
		t.Fatalf("got watch %d with %d events", s.watchID, len(s.revs))
	}
}

// split cuts b into pieces at the given offsets (within one chunk, as the reader hands them out).
func split(b []byte, at ...int) cutMessage {
	chunk := &readChunk{buf: b}
	var m cutMessage
	from := 0
	for _, to := range append(at, len(b)) {
		p := piece{chunk, b[from:to]}
		if from == 0 {
			m.first = p
		} else {
			m.rest = append(m.rest, p)
		}
		from = to
	}
	return m
}

func TestMessageInPiecesReadsAsWhole(t *testing.T) {
	b := response(t, 3, span(10, 40), plain)
	var memo eventsMemo
	var want watchSummary
	if err := summarize(b, &want); err != nil {
		t.Fatal(err)
	}
	n := len(b)
	var head watchSummary
	events, err := summarizeFields(b, 0, &head, true)
	if err != nil {
		t.Fatal(err)
	}
	// Cuts inside the fields before the events, right at the first event (the fields in pieces of their own, as
	// Vigil frames a response head apart from a shared batch), mid-event, within the last 8 bytes.
	for _, cuts := range [][]int{{2}, {events}, {2, events}, {n / 2}, {5, n / 3, n - 3}, {n - 4}, {1, 2, 3, n / 2, n - 1}} {
		for round := 0; round < 2; round++ { // once new, once from the memo
			m := split(b, cuts...)
			var got watchSummary
			if err := memo.summarizeMessage(&m, &got); err != nil {
				t.Fatalf("cuts %v: %v", cuts, err)
			}
			if got.watchID != want.watchID || len(got.revs) != len(want.revs) || got.revs[30] != 40 ||
				string(got.values[7]) != string(want.values[7]) {
				t.Fatalf("cuts %v round %d: got %+v", cuts, round, got)
			}
		}
	}
	// A message in pieces that differs in one byte from a remembered one is not taken from the memo.
	changed := response(t, 3, span(10, 40), func(rev int64) string {
		if rev == 30 {
			return strings.Repeat("x", 20)
		}
		return plain(rev)
	})
	m := split(changed, n/2)
	var got watchSummary
	if err := memo.summarizeMessage(&m, &got); err != nil {
		t.Fatal(err)
	}
	if string(got.values[20]) != strings.Repeat("x", 20) {
		t.Fatalf("value taken from the memo: %q", got.values[20])
	}
}
