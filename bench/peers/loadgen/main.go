// Command loadgen is the load client of bench/peers: N raw-TCP SSE subscribers and an HTTP
// publisher in one process, standard library only. Every update carries "<seq> <send-µs> <pad>"
// in its data; each subscriber keeps a bitmap of the sequence numbers it saw, so the tally of
// deliveries, losses, duplicates and unexpected events is exact, and latency is read off the send
// timestamp (same machine clock). Protocol with the orchestrator: after the setup (subscribers
// connected, or for a replay storm the history prefilled) it prints {"phase":"ready"} and waits
// for a line on stdin; then it runs the main phase and prints one JSON result line.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	subAddrs    = flag.String("sub-addrs", "127.0.0.1:8080", "comma-separated host:port list; subscriber i uses entry i % len")
	pubURL      = flag.String("pub-url", "", "publish URL (form style: the whole URL; body style: the prefix the escaped topic is appended to)")
	pubStyle    = flag.String("pub-style", "form", "form (POST topic=…&data=…) or body (POST raw data to pub-url+topic)")
	subPath     = flag.String("sub-path", "/.well-known/mercure?topic=", "GET path prefix; the escaped topic is appended")
	topicFmt    = flag.String("topic-fmt", "https://bench.local/t/%d", "topic name from its index")
	token       = flag.String("token", "", "bearer token for publishing")
	subs        = flag.Int("subs", 100, "subscribers")
	topics      = flag.Int("topics", 1, "topics; subscriber i listens to topic i % topics, update seq s goes to topic s % topics")
	updates     = flag.Int("updates", 0, "updates to publish (0 with -duration: flat out for the duration)")
	rate        = flag.Float64("rate", 0, "updates per second (0 = flat out)")
	duration    = flag.Duration("duration", 0, "flat-out publishing time")
	pubConns    = flag.Int("pub-conns", 4, "publishing connections (flat out: in flight at once)")
	padTo       = flag.Int("size", 130, "data size in bytes (padded)")
	replay      = flag.Int("replay", 0, "connect storm: prefill this many updates on topic 0 (after a marker), then connect all subscribers with Last-Event-ID of the marker")
	dialLimit   = flag.Int("dial-limit", 256, "connections being opened at once")
	settle      = flag.Duration("settle", 5*time.Second, "after the last publish, wait at most this long without progress for missing deliveries")
	hold        = flag.Duration("hold", time.Second, "idle scenario: keep subscribers open this long after ready")
	waitStdin   = flag.Bool("wait", true, "wait for a stdin line after ready")
	connTimeout = flag.Duration("connect-timeout", 30*time.Second, "bound for one subscriber's handshake (status line and headers)")
)

func nowMicros() int64 { return time.Now().UnixNano() / 1000 }

// subscriber state; touched by its own goroutine only until the end, except the atomics.
type subscriber struct {
	idx       int
	topic     int
	seen      []byte // bitmap by seq
	delivered int
	dups      int
	unexp     int
	lat       []int32 // µs, main-phase events only
	lastID    []byte  // reused: no allocation per event
	markerID  string
	conn      net.Conn
	live      bool // headers received: the subscriber counts
	closing   atomic.Bool
	dropped   bool
	errText   string
}

var (
	readers      sync.WaitGroup // every subscriber goroutine
	delivered    atomic.Int64   // every event received, for progress
	lastDelivery atomic.Int64   // µs
	mainFrom     atomic.Int64   // seqs below this are not sampled for latency
	headersOK    atomic.Int64
	disconnects  atomic.Int64
	completeAt   atomic.Int64 // µs, set when delivered reaches target (replay)
	target       atomic.Int64
	expectFrom   atomic.Int64 // seqs below this are not expected (the replay marker)
)

func (s *subscriber) mark(seq int) {
	i, b := seq>>3, byte(1)<<(seq&7)
	for i >= len(s.seen) {
		s.seen = append(s.seen, make([]byte, len(s.seen)+64)...)
	}
	if s.seen[i]&b != 0 {
		s.dups++
		return
	}
	s.seen[i] |= b
}

func (s *subscriber) has(seq int) bool {
	i := seq >> 3
	return i < len(s.seen) && s.seen[i]&(byte(1)<<(seq&7)) != 0
}

func topicName(i int) string { return fmt.Sprintf(*topicFmt, i) }

// run opens the stream and reads it until it ends; ready is signalled once headers are in.
func (s *subscriber) run(addr, lastEventID string, ready chan<- error) {
	readers.Add(1)
	defer readers.Done()
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		ready <- err
		return
	}
	s.conn = c
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s%s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n", *subPath, url.QueryEscape(topicName(s.topic)), addr)
	if lastEventID != "" {
		fmt.Fprintf(&req, "Last-Event-ID: %s\r\n", lastEventID)
	}
	req.WriteString("\r\n")
	if _, err := c.Write(req.Bytes()); err != nil {
		ready <- err
		return
	}
	c.SetReadDeadline(time.Now().Add(*connTimeout))
	br := bufio.NewReaderSize(c, 16<<10)
	status, err := br.ReadString('\n')
	if err != nil {
		ready <- fmt.Errorf("no response: %v", err)
		return
	}
	if !strings.Contains(status, " 200") {
		ready <- fmt.Errorf("status %q", strings.TrimSpace(status))
		return
	}
	chunked := false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			ready <- err
			return
		}
		if line == "\r\n" || line == "\n" {
			break
		}
		l := strings.ToLower(line)
		if strings.HasPrefix(l, "transfer-encoding:") && strings.Contains(l, "chunked") {
			chunked = true
		}
	}
	c.SetReadDeadline(time.Time{})
	s.live = true
	headersOK.Add(1)
	ready <- nil
	var body *bufio.Reader = br
	if chunked {
		body = bufio.NewReaderSize(httputil.NewChunkedReader(br), 16<<10)
	}
	s.read(body)
}

func (s *subscriber) read(r *bufio.Reader) {
	for {
		line, err := r.ReadSlice('\n')
		if err != nil {
			if err == bufio.ErrBufferFull {
				continue // an over-long line: not ours
			}
			if !s.closing.Load() {
				s.dropped = true
				s.errText = err.Error()
				disconnects.Add(1)
			}
			return
		}
		// "data:" and "id:" with the optional single space of the SSE grammar.
		if len(line) > 5 && string(line[:5]) == "data:" {
			v := line[5:]
			if v[0] == ' ' {
				v = v[1:]
			}
			s.onData(v)
		} else if len(line) > 3 && string(line[:3]) == "id:" {
			v := line[3:]
			if v[0] == ' ' {
				v = v[1:]
			}
			s.lastID = append(s.lastID[:0], bytes.TrimRight(v, "\r\n")...)
		}
	}
}

// parseInt reads a decimal number followed by a space, without allocating.
func parseInt(b []byte) (int64, []byte, bool) {
	var n int64
	i := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int64(b[i]-'0')
	}
	if i == 0 || i >= len(b) || b[i] != ' ' {
		return 0, nil, false
	}
	return n, b[i+1:], true
}

func (s *subscriber) onData(b []byte) {
	if len(b) > 0 && b[0] == '"' { // better-sse's default JSON serializer
		b = b[1:]
	}
	seq64, rest, ok := parseInt(b)
	if !ok {
		return
	}
	ts, _, ok := parseInt(rest)
	if !ok {
		return
	}
	seq := int(seq64)
	now := nowMicros()
	if seq == 0 && s.markerID == "" {
		s.markerID = string(s.lastID)
	}
	if seq%*topics != s.topic || int64(seq) < expectFrom.Load() {
		s.unexp++
	} else {
		s.mark(seq)
		s.delivered++
	}
	if int64(seq) >= mainFrom.Load() {
		s.lat = append(s.lat, int32(now-ts))
	}
	lastDelivery.Store(now)
	if n := delivered.Add(1); n == target.Load() {
		completeAt.Store(now)
	}
}

// publisher: keep-alive HTTP client.
type publisher struct {
	client *http.Client
	pad    string
	mu     sync.Mutex
	acks   []int32 // µs
	ok     []bool  // by seq
	errs   atomic.Int64
	last   string
}

func newPublisher() *publisher {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64, DisableCompression: true}
	return &publisher{client: &http.Client{Transport: tr, Timeout: 30 * time.Second}, pad: strings.Repeat("x", 256)}
}

func (p *publisher) publish(seq int) {
	ts := nowMicros()
	data := fmt.Sprintf("%d %d ", seq, ts)
	if n := *padTo - len(data); n > 0 {
		data += p.pad[:min(n, len(p.pad))]
	}
	topic := topicName(seq % *topics)
	var req *http.Request
	if *pubStyle == "body" {
		req, _ = http.NewRequest("POST", *pubURL+url.QueryEscape(topic), strings.NewReader(data))
		req.Header.Set("Content-Type", "text/plain")
	} else {
		form := "topic=" + url.QueryEscape(topic) + "&data=" + url.QueryEscape(data)
		req, _ = http.NewRequest("POST", *pubURL, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	res, err := p.client.Do(req)
	good := false
	if err == nil {
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		good = res.StatusCode >= 200 && res.StatusCode < 300
		if !good {
			p.mu.Lock()
			p.last = res.Status
			p.mu.Unlock()
		}
	} else {
		p.mu.Lock()
		p.last = err.Error()
		p.mu.Unlock()
	}
	ack := int32(nowMicros() - ts)
	p.mu.Lock()
	for len(p.ok) <= seq {
		p.ok = append(p.ok, false)
	}
	p.ok[seq] = good
	p.acks = append(p.acks, ack)
	p.mu.Unlock()
	if !good {
		p.errs.Add(1)
	}
}

func min(a, b int) int {
	if a < b {
		return a
	}
	return b
}

// phase1 publishes seqs [from, from+count) (count 0: flat out for -duration) and returns the next seq.
func (p *publisher) run(from, count int, r float64, d time.Duration) int {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	if r > 0 {
		interval := time.Duration(float64(time.Second) / r)
		start := time.Now()
		for i := 0; i < count; i++ {
			if w := time.Until(start.Add(time.Duration(i) * interval)); w > 0 {
				time.Sleep(w)
			}
			wg.Add(1)
			go func(seq int) { defer wg.Done(); p.publish(seq) }(from + i)
		}
		wg.Wait()
		return from + count
	}
	deadline := time.Now().Add(d)
	end := int64(from + count)
	for c := 0; c < *pubConns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if count == 0 && time.Now().After(deadline) {
					return
				}
				seq := next.Add(1) - 1
				if count > 0 && seq >= end {
					return
				}
				p.publish(int(seq))
			}
		}()
	}
	wg.Wait()
	if count > 0 {
		return from + count
	}
	return int(next.Load())
}

func pct(xs []int32, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(q * float64(len(xs)-1))
	return float64(xs[i]) / 1000
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	os.Stdout.Write(append(b, '\n'))
}

func fatal(format string, args ...any) {
	emit(map[string]any{"phase": "error", "error": fmt.Sprintf(format, args...)})
	os.Exit(2)
}

// openAll connects subscribers [0, n) with at most -dial-limit handshakes in flight.
func openAll(list []*subscriber, addrs []string, lastEventID string) (int, string) {
	sem := make(chan struct{}, *dialLimit)
	var failed atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for i, s := range list {
		sem <- struct{}{}
		wg.Add(1)
		ready := make(chan error, 1)
		go s.run(addrs[i%len(addrs)], lastEventID, ready)
		go func() {
			defer wg.Done()
			if err := <-ready; err != nil {
				failed.Add(1)
				firstErr.CompareAndSwap(nil, err.Error())
			}
			<-sem
		}()
	}
	wg.Wait()
	e, _ := firstErr.Load().(string)
	return int(failed.Load()), e
}

func main() {
	flag.Parse()
	// Latency samples and bitmaps are long-lived: collect less often, spend the CPU on reading.
	debug.SetGCPercent(400)
	var rl syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl) == nil && rl.Cur < rl.Max {
		rl.Cur = rl.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl)
	}
	addrs := strings.Split(*subAddrs, ",")
	pub := newPublisher()
	list := make([]*subscriber, *subs)
	for i := range list {
		list[i] = &subscriber{idx: i, topic: i % *topics}
	}
	result := map[string]any{"phase": "done", "subs": *subs, "topics": *topics}
	seq := 0
	marker := ""
	mainFrom.Store(0)
	if *replay > 0 {
		// A probe subscriber learns the id the server gave the marker (seq 0).
		probe := &subscriber{topic: 0}
		ready := make(chan error, 1)
		go probe.run(addrs[0], "", ready)
		if err := <-ready; err != nil {
			fatal("probe: %v", err)
		}
		// The marker first and alone: concurrent publishes may be stored in any order, and
		// everything the server stores after the marker is what a resume must replay.
		pub.run(0, 1, 0, 0)
		seq = pub.run(1, *replay, 0, 0)
		deadline := time.Now().Add(10 * time.Second)
		for probe.markerID == "" && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		probe.closing.Store(true)
		probe.conn.Close()
		marker = probe.markerID
		if marker == "" {
			fatal("the marker update came without an id")
		}
		result["marker_id"] = marker
		mainFrom.Store(int64(seq))
		expectFrom.Store(1)
		delivered.Store(0)
	} else {
		t0 := time.Now()
		failed, e := openAll(list, addrs, "")
		result["connect_ms"] = float64(time.Since(t0).Microseconds()) / 1000
		if failed > 0 {
			result["connect_errors"] = failed
			result["connect_error"] = e
		}
	}
	emit(map[string]any{"phase": "ready", "connected": headersOK.Load(), "loadgen_cpu_s": cpuSeconds()})
	if *waitStdin {
		bufio.NewReader(os.Stdin).ReadString('\n')
	}
	cpu0 := cpuSeconds()
	start := time.Now()
	startUs := nowMicros()
	var published int
	if *replay > 0 {
		target.Store(int64(*subs * *replay))
		failed, e := openAll(list, addrs, marker)
		result["connect_ms"] = float64(time.Since(start).Microseconds()) / 1000
		if failed > 0 {
			result["connect_errors"] = failed
			result["connect_error"] = e
		}
		published = seq
	} else if *updates > 0 || *duration > 0 {
		mainFrom.Store(int64(seq))
		published = pub.run(seq, *updates, *rate, *duration)
	} else {
		time.Sleep(*hold)
	}
	pubEnd := time.Now()
	// Expected deliveries per subscriber.
	from := int(mainFrom.Load())
	if *replay > 0 {
		from = 1
	}
	okSeqs := 0
	perTopic := make([]int, *topics)
	pub.mu.Lock()
	for s := from; s < published && s < len(pub.ok); s++ {
		if pub.ok[s] {
			okSeqs++
			perTopic[s%*topics]++
		}
	}
	pub.mu.Unlock()
	var expected int64
	for _, s := range list {
		if s.live {
			expected += int64(perTopic[s.topic])
		}
	}
	// Wait for the deliveries still under way: done when everything expected arrived, or when
	// nothing arrived for -settle.
	var got int64
	for {
		got = delivered.Load()
		if got >= expected {
			break
		}
		idle := time.Since(time.UnixMicro(lastDelivery.Load()))
		if lastDelivery.Load() == 0 {
			idle = time.Since(pubEnd)
		}
		if idle > *settle && time.Since(pubEnd) > *settle {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	end := time.Now()
	for _, s := range list {
		s.closing.Store(true)
		if s.conn != nil {
			s.conn.Close()
		}
	}
	// Let every reader finish what it had buffered before the tally (bounded).
	finished := make(chan struct{})
	go func() { readers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(3 * time.Second):
	}
	var lost, dups, unexp, deliv int64
	var lat []int32
	dropped := 0
	dropErr := ""
	for _, s := range list {
		deliv += int64(s.delivered)
		dups += int64(s.dups)
		unexp += int64(s.unexp)
		lat = append(lat, s.lat...)
		if s.dropped {
			dropped++
			if dropErr == "" {
				dropErr = s.errText
			}
		}
		if !s.live {
			continue
		}
		first := from + ((s.topic-from%*topics)+*topics)%*topics
		for q := first; q < published; q += *topics {
			if q < len(pub.ok) && pub.ok[q] && !s.has(q) {
				lost++
			}
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	sort.Slice(pub.acks, func(i, j int) bool { return pub.acks[i] < pub.acks[j] })
	lastUs := lastDelivery.Load()
	span := float64(lastUs-startUs) / 1e6
	if span <= 0 {
		span = end.Sub(start).Seconds()
	}
	result["published"] = okSeqs
	result["publish_errors"] = pub.errs.Load()
	if pub.last != "" {
		result["publish_error"] = pub.last
	}
	result["expected"] = expected
	result["delivered"] = deliv
	result["lost"] = lost
	result["duplicates"] = dups
	result["unexpected"] = unexp
	result["disconnects"] = dropped
	if dropErr != "" {
		result["disconnect_error"] = dropErr
	}
	result["connected"] = headersOK.Load()
	result["publish_s"] = pubEnd.Sub(start).Seconds()
	result["span_s"] = span
	if deliv > 0 {
		result["deliveries_per_s"] = float64(deliv) / span
	}
	if c := completeAt.Load(); c > 0 {
		result["complete_ms"] = float64(c-startUs) / 1000
	}
	result["p50_ms"] = pct(lat, 0.50)
	result["p90_ms"] = pct(lat, 0.90)
	result["p99_ms"] = pct(lat, 0.99)
	result["max_ms"] = pct(lat, 1)
	result["ack_p50_ms"] = pct(pub.acks, 0.50)
	result["ack_p99_ms"] = pct(pub.acks, 0.99)
	result["loadgen_cpu_s"] = cpuSeconds() - cpu0
	emit(result)
	os.Exit(0)
}
