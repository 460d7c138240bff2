// Command genevents writes login records as loganom-parse writes them,
// for benchmarks of the later stages: -n records over -ips distinct client
// addresses (IPv4, 10 % IPv6), a few per account, some addresses far
// more frequent than others. The output is the same for the same flags.
//
//	go run ./scripts/genevents -n 1000000 -ips 20000 > events.ndjson
package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"time"

	"github.com/loganom/loganom/pkg/record"
)

func main() {
	n := flag.Int("n", 1000000, "records")
	ips := flag.Int("ips", 20000, "distinct client addresses")
	users := flag.Int("users", 2000, "accounts")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	rnd := rand.New(rand.NewPCG(*seed, 7))
	addrs := make([]string, *ips)
	for i := range addrs {
		if i%10 == 9 {
			var b [16]byte
			b[0], b[1] = 0x2a, 0x02
			for k := 2; k < 16; k++ {
				b[k] = byte(rnd.IntN(256))
			}
			addrs[i] = netip.AddrFrom16(b).String()
		} else {
			addrs[i] = netip.AddrFrom4([4]byte{byte(1 + rnd.IntN(222)), byte(rnd.IntN(256)), byte(rnd.IntN(256)), byte(1 + rnd.IntN(254))}).String()
		}
	}
	zipf := rand.NewZipf(rnd, 1.1, 4, uint64(*ips-1))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	t := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var buf []byte
	var enc record.Encoder
	for i := 0; i < *n; i++ {
		// every address appears at least once, then by popularity
		k := i
		if k >= *ips {
			k = int(zipf.Uint64())
		}
		t = t.Add(time.Duration(rnd.IntN(3000)) * time.Millisecond)
		r := record.Record{
			Type: record.TypeLogin, Time: t, Host: "mail", Service: "postfix/submission/smtpd", PID: 1000 + rnd.IntN(60000),
			QueueID: fmt.Sprintf("%010X", rnd.Uint64()&0xffffffffff), User: fmt.Sprintf("user%d@example.com", rnd.IntN(*users)),
			IP: addrs[k], ClientName: "unknown", Method: "PLAIN", SrcFile: "maillog", SrcLine: int64(i*9 + 3),
		}
		buf = enc.AppendJSON(buf[:0], &r)
		buf = append(buf, '\n')
		w.Write(buf)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genevents: error:", err)
		os.Exit(1)
	}
}
