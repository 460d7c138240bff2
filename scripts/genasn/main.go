// Command genasn writes AS CSVs of the shape of ip-location-db's
// asn-ipv4.csv and asn-ipv6.csv ("start,end,asn,org", no header, sorted,
// disjoint ranges with gaps; organisation names with commas, quotes and
// UTF-8), for benchmarks where scripts/fetch-geodb cannot download. The
// data is made up.
//
//	go run ./scripts/genasn -rows 515000 DIR   # DIR/asn-ipv4.csv (80 %), DIR/asn-ipv6.csv (20 %)
package main

import (
	"bufio"
	"encoding/binary"
	"encoding/csv"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
)

var words = []string{"Telecom", "Networks", "Cloudflare, Inc.", `"Quoted" Hosting`, "Telefônica", "Ростелеком", "中国电信",
	"Orange España, S.A.U.", "Internet", "Communications", "LLC", "GmbH", "S.A.", "Ltd", "Broadband", "Datacenter"}

func main() {
	rows := flag.Int("rows", 515000, "rows in all")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: genasn [-rows N] [-seed N] DIR")
		os.Exit(2)
	}
	dir := flag.Arg(0)
	rng := rand.New(rand.NewPCG(*seed, 7))
	nAS := max(*rows/7, 1) // about 80,000 ASes for 515,000 rows, as in the real data
	org := func(asn int) string {
		r := rand.New(rand.NewPCG(uint64(asn), 3)) // the same name for an AS every time
		s := words[r.IntN(len(words))]
		for range r.IntN(3) {
			s += " " + words[r.IntN(len(words))]
		}
		return s + " " + strconv.Itoa(asn)
	}
	n4 := *rows * 8 / 10
	write(filepath.Join(dir, "asn-ipv4.csv"), func(w *csv.Writer) {
		v := uint64(1 << 24)
		step := (uint64(223<<24) - v) / uint64(n4) // spread over 1.0.0.0-223.255.255.255
		for range n4 {
			size := uint64(256) << rng.IntN(4)
			gap := uint64(rng.IntN(int(step))) &^ 255
			v += gap
			asn := rng.IntN(nAS) + 1
			var s, e [4]byte
			binary.BigEndian.PutUint32(s[:], uint32(v))
			binary.BigEndian.PutUint32(e[:], uint32(v+size-1))
			w.Write([]string{netip.AddrFrom4(s).String(), netip.AddrFrom4(e).String(), strconv.Itoa(asn), org(asn)})
			v += size
		}
	})
	write(filepath.Join(dir, "asn-ipv6.csv"), func(w *csv.Writer) {
		hi := uint64(0x2001) << 48
		for range *rows - n4 {
			size := uint64(1) << (16 + rng.IntN(16)) // /48 to /32, in units of 2^64
			hi += uint64(rng.IntN(4)) << 32
			asn := rng.IntN(nAS) + 1
			var s, e [16]byte
			binary.BigEndian.PutUint64(s[:], hi)
			binary.BigEndian.PutUint64(e[:], hi+size-1)
			binary.BigEndian.PutUint64(e[8:], ^uint64(0))
			w.Write([]string{netip.AddrFrom16(s).String(), netip.AddrFrom16(e).String(), strconv.Itoa(asn), org(asn)})
			hi += size
		}
	})
}

func write(path string, rows func(*csv.Writer)) {
	f, err := os.Create(path)
	check(err)
	bw := bufio.NewWriter(f)
	w := csv.NewWriter(bw)
	rows(w)
	w.Flush()
	check(w.Error())
	check(bw.Flush())
	check(f.Close())
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "genasn: error:", err)
		os.Exit(1)
	}
}
