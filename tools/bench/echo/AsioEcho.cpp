// AsioEcho: the echo server on Boost.Asio — one single-threaded io_context, one session per
// connection: async_read_some, then async_write of what was read, then read again.
#include "EchoPeers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <memory>

namespace coil::bench::echo {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket socket) : socket_(std::move(socket)) {}

  void read() {
    socket_.async_read_some(
        asio::buffer(data_.get(), kReadSize),
        [this, self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          if (!ec) write(n);
        });
  }

 private:
  void write(std::size_t n) {
    asio::async_write(socket_, asio::buffer(data_.get(), n),
                      [this, self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (!ec) read();
                      });
  }

  tcp::socket socket_;
  // Not value-initialised: only the bytes read are ever touched.
  std::unique_ptr<char[]> data_{new char[kReadSize]};
};

void accept(tcp::acceptor& acceptor) {
  acceptor.async_accept([&acceptor](boost::system::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Session>(std::move(socket))->read();
    accept(acceptor);
  });
}

}  // namespace

int serveAsio(int port) {
  try {
    asio::io_context io(1);  // one thread: no locking
    tcp::acceptor acceptor(io, tcp::v4(), listenLoopback(port));
    accept(acceptor);
    io.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "echo server: asio: %s\n", e.what());
  }
  return 1;
}

}  // namespace coil::bench::echo
