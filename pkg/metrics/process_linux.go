package metrics

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// userHZ is the unit of the times in /proc/PID/stat: USER_HZ, 100 on
// every Linux architecture Go runs on.
const userHZ = 100

// processFamilies are the process's metrics now, from getrusage, getrlimit
// and /proc/self; a value that cannot be read is left out.
func processFamilies() []exposed {
	var fams []exposed
	one := func(name, help, typ string, v float64) {
		fams = append(fams, exposed{name: name, help: help, typ: typ, samples: []sample{{name: name, v: v}}})
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		cpu := float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
		one("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", "counter", cpu)
	}
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 2 {
			size, err1 := strconv.ParseUint(f[0], 10, 64)
			rss, err2 := strconv.ParseUint(f[1], 10, 64)
			if err1 == nil && err2 == nil {
				page := float64(os.Getpagesize())
				one("process_resident_memory_bytes", "Resident memory size in bytes.", "gauge", float64(rss)*page)
				one("process_virtual_memory_bytes", "Virtual memory size in bytes.", "gauge", float64(size)*page)
			}
		}
	}
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		one("process_open_fds", "Number of open file descriptors.", "gauge", float64(len(ents)-1)) // less the directory's own
	}
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil {
		one("process_max_fds", "Maximum number of open file descriptors.", "gauge", float64(rl.Cur))
	}
	if start, ok := startTime(); ok {
		one("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", "gauge", start)
	}
	return fams
}

// startTime is when the process started, in seconds since the epoch: its
// start in ticks after boot (/proc/self/stat, field 22) plus the boot
// time (/proc/stat btime).
func startTime() (float64, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, false
	}
	// the command's name, field 2, is in parentheses and may hold spaces
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:])) // from field 3
	if len(f) < 20 {
		return 0, false
	}
	ticks, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0, false
	}
	st, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			boot, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return 0, false
			}
			return float64(boot) + float64(ticks)/userHZ, true
		}
	}
	return 0, false
}
