// Example: a line-based chat server (Twisted's classic LineReceiver chat), exercised by two
// in-process clients, alice and bob, over loopback TCP. Exits 0 when each saw exactly what it
// should.
//   example_Chat 8123   serve on port 8123 instead, until Ctrl-C (`nc -C 127.0.0.1 8123`)
#include <coil/core/Log.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>
#include <coil/transports/protocols/LineReceiver.hpp>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

using namespace coil;

// ---- the server: a name first, then every line goes to everyone else.
class Chat : public basic::LineReceiver {
 public:
  explicit Chat(std::map<std::string, Chat*>* users) : users_(users) {}
  void connectionMade() override { sendLine("What's your name?"); }
  void connectionLost(const Failure&) override {
    if (!name_.empty()) users_->erase(name_);
  }
  void lineReceived(std::string_view line) override {
    if (!name_.empty()) {  // chatting: broadcast to the others
      std::string message = "<" + name_ + "> " + std::string(line);
      for (auto& [name, user] : *users_)
        if (user != this) user->sendLine(message);
    } else if (line.empty() || users_->count(std::string(line))) {
      sendLine("Name taken, please choose another.");
    } else {
      name_ = line;
      (*users_)[name_] = this;
      sendLine("Welcome, " + name_ + "!");
    }
  }

 private:
  std::map<std::string, Chat*>* users_;  // owned by main(); outlives every connection
  std::string name_;
};

// ---- the clients: each records what it hears; Script moves the conversation along.
class Client;
struct Script {
  std::map<std::string, Client*> clients;
  std::map<std::string, std::vector<std::string>> heard;
  ReactorBase* reactor = nullptr;
  bool aliceSpoke = false, bobSpoke = false, done = false;
  bool saw(const std::string& who, const std::string& line);
  void step();
};

class Client : public basic::LineReceiver {
 public:
  Client(std::string name, Script* script) : name_(std::move(name)), script_(script) {}
  void connectionMade() override { script_->clients[name_] = this; }
  void connectionLost(const Failure&) override { script_->clients.erase(name_); }
  void lineReceived(std::string_view line) override {
    script_->heard[name_].emplace_back(line);
    if (line == "What's your name?") sendLine(name_);
    script_->step();
  }

 private:
  std::string name_;
  Script* script_;
};

bool Script::saw(const std::string& who, const std::string& line) {
  for (const auto& l : heard[who])
    if (l == line) return true;
  return false;
}

// Both welcomed -> alice talks; bob heard her -> bob answers; alice heard him -> done.
void Script::step() {
  bool both = saw("alice", "Welcome, alice!") && saw("bob", "Welcome, bob!");
  if (both && !aliceSpoke) {
    aliceSpoke = true;
    clients["alice"]->sendLine("hi bob");
  }
  if (saw("bob", "<alice> hi bob") && !bobSpoke) {
    bobSpoke = true;
    clients["bob"]->sendLine("hello alice");
  }
  if (saw("alice", "<bob> hello alice") && !done) {
    done = true;
    auto connected = clients;  // connectionLost edits `clients`
    for (auto& [name, client] : connected) client->transport()->loseConnection();
    reactor->callLater(0.1, [r = reactor] { r->stop(); });  // let the closes happen
  }
}

int main(int argc, char** argv) {
  auto reactor = makeReactor();
  std::map<std::string, Chat*> users;
  auto server = ServerFactory::forProtocol<Chat>(&users);
  if (argc > 1) {
    reactor->listenTCP(std::atoi(argv[1]), server);
    reactor->run();
    return 0;
  }
  auto port = reactor->listenTCP(0, server, 50, "127.0.0.1");
  int portNumber = std::get<IPv4Address>(port->getHost()).port;

  Script script;
  script.reactor = reactor.get();
  for (std::string name : {"alice", "bob"})
    reactor->connectTCP("127.0.0.1", portNumber, ClientFactory::forProtocol<Client>(name, &script));
  auto watchdog = reactor->callLater(10, [&] { reactor->stop(); });  // never hang
  reactor->run(false);
  if (watchdog->active()) watchdog->cancel();

  using Lines = std::vector<std::string>;
  bool ok =
      script.done &&
      script.heard["alice"] == Lines{"What's your name?", "Welcome, alice!", "<bob> hello alice"} &&
      script.heard["bob"] == Lines{"What's your name?", "Welcome, bob!", "<alice> hi bob"};
  for (const auto& [who, lines] : script.heard)
    for (const auto& line : lines) std::printf("%s heard: %s\n", who.c_str(), line.c_str());
  std::printf("%s\n", ok ? "chat works" : "chat FAILED");
  return ok ? 0 : 1;
}
