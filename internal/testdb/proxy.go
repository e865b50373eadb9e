package testdb

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards TCP connections to a server and can delay the server's
// answers, so that tests can cancel a statement while it is in flight.
type Proxy struct {
	// Addr is the host:port to connect to instead of the server.
	Addr string

	ln      net.Listener
	delay   atomic.Int64
	stalled atomic.Bool
	done    chan struct{} // closed when the test ends
	mu      sync.Mutex
	conns   []net.Conn
	wg      sync.WaitGroup
}

// NewProxy starts a proxy to upstream (host:port) on a free local port. It
// stops, closing every connection, when the test ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: listen: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), ln: ln, done: make(chan struct{})}
	p.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			p.wg.Go(func() { p.pipe(u, c, false) })
			p.wg.Go(func() { p.pipe(c, u, true) })
		}
	})
	t.Cleanup(func() {
		close(p.done)
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

// Delay makes the proxy hold every chunk the server sends for d before
// passing it on; zero passes them on at once.
func (p *Proxy) Delay(d time.Duration) { p.delay.Store(int64(d)) }

// Stall makes the proxy stop passing anything on, either way, on the
// connections it has and those it accepts later, without closing them: a
// network that stopped answering. It lasts until the test ends.
func (p *Proxy) Stall() { p.stalled.Store(true) }

// pipe copies src to dst until either ends, then closes both, so that a
// client that hangs up ends its server session too.
func (p *Proxy) pipe(dst, src net.Conn, delayed bool) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if p.stalled.Load() {
			<-p.done
			return
		}
		if n > 0 {
			if d := time.Duration(p.delay.Load()); delayed && d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
