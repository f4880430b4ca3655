// The UDP echo server on libuv: uv_udp_open on the given socket, a static receive buffer,
// uv_udp_try_send for the reply.
#include "UdpPeers.hpp"

#include <uv.h>

namespace coil::bench::udp {

namespace {

char buffer[65536];

void onAlloc(uv_handle_t* /*handle*/, std::size_t /*suggested*/, uv_buf_t* buf) {
  *buf = uv_buf_init(buffer, sizeof buffer);
}

void onReceive(uv_udp_t* handle, ssize_t n, const uv_buf_t* buf, const sockaddr* from,
               unsigned /*flags*/) {
  if (n < 0 || from == nullptr) return;  // error, or "nothing more to read"
  if (isQuit(buf->base, static_cast<std::size_t>(n))) {
    uv_udp_recv_stop(handle);
    uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
    return;
  }
  uv_buf_t reply = uv_buf_init(buf->base, static_cast<unsigned>(n));
  uv_udp_try_send(handle, &reply, 1, from);
}

}  // namespace

void runLibuv(int fd) {
  uv_loop_t* loop = uv_default_loop();
  uv_udp_t handle;
  uv_udp_init(loop, &handle);
  uv_udp_open(&handle, fd);
  uv_udp_recv_start(&handle, onAlloc, onReceive);
  uv_run(loop, UV_RUN_DEFAULT);
  uv_loop_close(loop);
}

}  // namespace coil::bench::udp
