// Prints the orders GoSortTests (Tests/MVCCTests/GoSortTests.swift) expects: Go's own sort.Sort, the sort etcd
// applies to sorted Range results, on items whose values tie. Run: GO111MODULE=off go run scripts/gosort-vectors.go

package main

import (
	"fmt"
	"sort"
)

type item struct{ index, value int }
type byValue []item

func (s byValue) Len() int           { return len(s) }
func (s byValue) Less(i, j int) bool { return s[i].value < s[j].value }
func (s byValue) Swap(i, j int)      { s[i], s[j] = s[j], s[i] }

func run(n, mod int, reverse bool) {
	items := make(byValue, n)
	for i := range items {
		items[i] = item{i, (i * 7919) % mod}
	}
	if reverse {
		sort.Sort(sort.Reverse(items))
	} else {
		sort.Sort(items)
	}
	fmt.Print("[")
	for i, it := range items {
		if i > 0 {
			fmt.Print(", ")
		}
		fmt.Print(it.index)
	}
	fmt.Println("]")
}

func main() {
	run(60, 4, false)
	run(60, 4, true)
	run(200, 3, false)
}
