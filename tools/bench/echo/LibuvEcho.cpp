// LibuvEcho: the echo server on libuv — uv_try_write of what was read, uv_write of a copy of any
// remainder, uv_read_stop while the write queue is above the high-water mark.
#include "EchoPeers.hpp"

#include <uv.h>

#include <cstdio>
#include <cstring>
#include <memory>

namespace coil::bench::echo {

namespace {

// Every read lands here: libuv calls alloc, reads and calls the read callback (which consumes
// the bytes) before it allocates again, all on the loop's thread.
char gBuffer[kReadSize];

struct Connection {
  uv_tcp_t tcp;
  bool reading = false;
  bool closing = false;
};

struct WriteRequest {
  uv_write_t req;
  std::unique_ptr<char[]> data;
};

void onAlloc(uv_handle_t*, std::size_t, uv_buf_t* buf) {
  *buf = uv_buf_init(gBuffer, sizeof gBuffer);
}

void onClosed(uv_handle_t* handle) {
  delete static_cast<Connection*>(handle->data);
}

void closeConnection(Connection* c) {
  if (c->closing) return;
  c->closing = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&c->tcp), onClosed);
}

void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf);

void onWritten(uv_write_t* req, int status) {
  auto* request = static_cast<WriteRequest*>(req->data);
  auto* c = static_cast<Connection*>(req->handle->data);
  delete request;
  if (status < 0) {
    closeConnection(c);
    return;
  }
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (!c->reading && !c->closing && uv_stream_get_write_queue_size(stream) <= kHighWater) {
    c->reading = true;
    uv_read_start(stream, onAlloc, onRead);
  }
}

void onRead(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
  auto* c = static_cast<Connection*>(stream->data);
  if (nread < 0) {
    closeConnection(c);
    return;
  }
  if (nread == 0) return;
  std::size_t size = static_cast<std::size_t>(nread);
  uv_buf_t data = uv_buf_init(buf->base, static_cast<unsigned>(size));
  int written = uv_try_write(stream, &data, 1);
  if (written == UV_EAGAIN) {
    written = 0;
  } else if (written < 0) {
    closeConnection(c);
    return;
  }
  std::size_t done = static_cast<std::size_t>(written);
  if (done == size) return;
  auto* request = new WriteRequest;
  request->req.data = request;
  request->data.reset(new char[size - done]);
  std::memcpy(request->data.get(), buf->base + done, size - done);
  uv_buf_t rest = uv_buf_init(request->data.get(), static_cast<unsigned>(size - done));
  if (uv_write(&request->req, stream, &rest, 1, onWritten) != 0) {
    delete request;
    closeConnection(c);
    return;
  }
  if (uv_stream_get_write_queue_size(stream) > kHighWater) {
    c->reading = false;
    uv_read_stop(stream);
  }
}

void onConnection(uv_stream_t* server, int status) {
  if (status < 0) return;
  auto* c = new Connection;
  uv_tcp_init(server->loop, &c->tcp);
  c->tcp.data = c;
  auto* stream = reinterpret_cast<uv_stream_t*>(&c->tcp);
  if (uv_accept(server, stream) != 0) {
    closeConnection(c);
    return;
  }
  c->reading = true;
  uv_read_start(stream, onAlloc, onRead);
}

}  // namespace

int serveLibuv(int port) {
  uv_loop_t* loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(loop, &server);
  int r = uv_tcp_open(&server, listenLoopback(port));
  if (r == 0) r = uv_listen(reinterpret_cast<uv_stream_t*>(&server), SOMAXCONN, onConnection);
  if (r != 0) {
    std::fprintf(stderr, "echo server: libuv listen: %s\n", uv_strerror(r));
    return 1;
  }
  uv_run(loop, UV_RUN_DEFAULT);
  return 1;
}

}  // namespace coil::bench::echo
