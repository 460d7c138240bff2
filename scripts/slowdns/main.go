// Command slowdns is a DNS server for benchmarks: it answers every
// reverse name with h-ADDRESS.bench.example, which resolves back, after a
// delay, on loopback. It runs until killed. On SIGUSR1 it prints, on
// stdout, the queries received since the last SIGUSR1 and the most it
// held at once (the client's queries in flight): "queries N at-once M".
//
//	go run ./scripts/slowdns -delay 50ms    # prints 127.0.0.1:PORT
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/loganom/loganom/pkg/enrich/dnstest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to listen on (UDP and TCP); port 0 picks a free one, printed on stdout")
	delay := flag.Duration("delay", 0, "time before each answer")
	flag.Parse()
	z := &dnstest.Zone{Synthesize: "bench.example", Delay: *delay}
	s, err := dnstest.Start(z, *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "slowdns: error:", err)
		os.Exit(1)
	}
	fmt.Println(s.Addr)
	usr1 := make(chan os.Signal, 1)
	signal.Notify(usr1, syscall.SIGUSR1)
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	var last int64
	for {
		select {
		case <-usr1:
			q := z.Queries.Load()
			fmt.Printf("queries %d at-once %d\n", q-last, z.MaxAtOnce.Swap(0))
			last = q
			continue
		case <-c:
		}
		break
	}
	s.Close()
	fmt.Fprintf(os.Stderr, "slowdns: %d queries\n", z.Queries.Load())
}
