// Package h2 is gohap's HTTP/2 transport, modelled on HAProxy 2.6's
// src/mux_h2.c and src/h2.c. It does not speak HTTP semantics itself: it
// turns every HTTP/2 stream into a net.Conn carrying exactly one HTTP/1.1
// exchange, so that the HTTP/1.1 engine runs unchanged on top of it.
//
// On the server side (bind ... proto h2, ALPN h2, h2c prior knowledge),
// ServeConn reads the client preface, and for each request stream calls
// the engine with a *Stream: reading it yields the request as HAProxy
// converts it to HTTP/1.1 (h2_make_htx_request), writing it takes the
// HTTP/1.1 response and sends HEADERS, DATA and trailers.
//
// On the client side (server ... proto h2), ClientConn.OpenStream returns
// a net.Conn into which the engine writes an HTTP/1.1 request and from
// which it reads the HTTP/1.1 response.
package h2
