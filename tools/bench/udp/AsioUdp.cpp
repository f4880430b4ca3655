// The UDP echo server on Boost.Asio: async_receive_from on the adopted socket, a non-blocking
// synchronous send_to for the reply.
#include "UdpPeers.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

namespace coil::bench::udp {

namespace {

struct Server {
  boost::asio::ip::udp::socket socket;
  boost::asio::ip::udp::endpoint from;
  char buffer[8192];

  void receive() {
    socket.async_receive_from(boost::asio::buffer(buffer), from,
                              [this](const boost::system::error_code& ec, std::size_t n) {
                                if (ec) return;
                                if (isQuit(buffer, n)) return;  // no more work: run() returns
                                boost::system::error_code ignored;
                                socket.send_to(boost::asio::buffer(buffer, n), from, 0, ignored);
                                receive();
                              });
  }
};

}  // namespace

void runAsio(int fd) {
  boost::asio::io_context context(1);
  Server server{boost::asio::ip::udp::socket(context), {}, {}};
  server.socket.assign(boost::asio::ip::udp::v4(), fd);
  server.socket.non_blocking(true);
  server.receive();
  context.run();
}

}  // namespace coil::bench::udp
