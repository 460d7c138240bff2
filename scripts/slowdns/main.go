// Command slowdns is a DNS server for benchmarks: it answers every
// reverse name with h-ADDRESS.bench.example, which resolves back, after a
// delay, on loopback. It runs until killed.
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
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
	<-c
	s.Close()
	fmt.Fprintf(os.Stderr, "slowdns: %d queries\n", z.Queries.Load())
}
