// Command benchcmp times shell commands side by side: each round runs every
// command once, in turn, so that a noisy machine slows them alike; it then
// prints each command's median wall time and peak memory, and the median,
// over the rounds, of each command's time divided by the first one's; the
// same for the CPU time (user and system, of sh and what it ran), which a
// machine loaded by other work inflates less than the wall time.
//
//	benchcmp -runs 7 'grep -F -c x big.log > /tmp/a' 'loganom-parse big.log > /tmp/b'
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 7, "rounds")
	between := flag.String("between", "", "a command run, untimed, before each timed one (to remove the last one's output, say)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: benchcmp [-runs N] BASELINE-COMMAND COMMAND...")
		flag.PrintDefaults()
	}
	flag.Parse()
	cmds := flag.Args()
	if len(cmds) < 2 || *runs < 1 {
		flag.Usage()
		os.Exit(2)
	}
	times := make([][]float64, len(cmds))
	ratios := make([][]float64, len(cmds))
	cpus := make([][]float64, len(cmds))
	cpuRatios := make([][]float64, len(cmds))
	rss := make([]int64, len(cmds))
	for r := 0; r < *runs; r++ {
		var base, baseCPU float64
		for i, c := range cmds {
			if *between != "" {
				if _, _, _, err := run(*between); err != nil {
					fmt.Fprintf(os.Stderr, "benchcmp: error: %q: %v\n", *between, err)
					os.Exit(1)
				}
			}
			sec, cpu, kb, err := run(c)
			if err != nil {
				fmt.Fprintf(os.Stderr, "benchcmp: error: %q: %v\n", c, err)
				os.Exit(1)
			}
			times[i] = append(times[i], sec)
			cpus[i] = append(cpus[i], cpu)
			rss[i] = max(rss[i], kb)
			if i == 0 {
				base, baseCPU = sec, cpu
			}
			ratios[i] = append(ratios[i], sec/base)
			if baseCPU > 0 {
				cpuRatios[i] = append(cpuRatios[i], cpu/baseCPU)
			}
		}
	}
	for i, c := range cmds {
		if len(cpuRatios[i]) == 0 {
			cpuRatios[i] = []float64{0}
		}
		fmt.Printf("%-8.3fs  ratio %-6.2f  cpu %-7.3fs ratio %-6.2f  peak RSS %6.1f MB  %s\n", median(times[i]), median(ratios[i]), median(cpus[i]), median(cpuRatios[i]), float64(rss[i])/1024, c)
	}
}

// run runs a command through sh and returns its wall time and CPU time
// in seconds and its peak resident memory in KiB (of sh and what it ran:
// wait4 reports the CPU time of a process and its children waited for,
// and the largest memory of them).
func run(c string) (float64, float64, int64, error) {
	cmd := exec.Command("sh", "-c", c)
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	sec := time.Since(start).Seconds()
	if err != nil {
		return 0, 0, 0, err
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return sec, cpu, int64(ru.Maxrss), nil // int32 on 386
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
