#include "server/server.h"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/metrics.h"
#include "server/router.h"

namespace quanyu::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Requests bigger than this are refused while being read (413): the batch
// limit plus room for form encoding of Sensors payloads.
size_t BodyLimit(const Engine& engine) { return engine.limits().max_batch_bytes * 2 + 4096; }

// One keep-alive connection: read a request, hand it to the router, write
// the response when the router answers, repeat. Owned by shared_ptr so an
// asynchronous answer keeps it alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Router* router, Engine* engine, const ServerOptions& options)
      : stream_(std::move(socket)), router_(router), engine_(engine), options_(options) {}

  void Start() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::Read, shared_from_this()));
  }

 private:
  // Waits up to idle_timeout_s for the next request to begin, then gives
  // the whole request read_timeout_s to arrive (slow clients are cut off).
  void Read() {
    parser_.emplace();
    head_ = false;
    parser_->body_limit(BodyLimit(*engine_));
    parser_->header_limit(16 * 1024);
    if (buffer_.size() > 0 || first_) {
      first_ = false;
      return ReadRequest();
    }
    stream_.expires_after(std::chrono::seconds(options_.idle_timeout_s));
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->buffer_.commit(n);
                              self->ReadRequest();
                            });
  }

  void ReadRequest() {
    stream_.expires_after(std::chrono::seconds(options_.read_timeout_s));
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, size_t bytes) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == beast::error::timeout ||
        ec == asio::error::connection_reset) {
      return Close();
    }
    if (ec == http::error::body_limit) {
      engine_->CountRejection("body_too_large", "");
      return WriteError(
          413, "payload_too_large",
          "request body exceeds the limit of " + std::to_string(BodyLimit(*engine_)) + " bytes");
    }
    if (ec == http::error::header_limit)
      return WriteError(431, "header_too_large", "request headers too large");
    if (ec)
      return WriteError(400, "bad_request", std::string("malformed HTTP request: ") + ec.message());

    bytes_in_->Add(bytes);
    auto& msg = parser_->get();
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == http::verb::head;
    HttpRequest req;
    req.method = std::string(msg.method_string());
    std::string_view target(msg.target().data(), msg.target().size());
    auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    req.body = std::move(msg.body());
    for (const auto& field : msg) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      req.headers.emplace_back(std::move(name), std::string(field.value()));
    }
    // The router may answer from another thread; hop back to our executor.
    stream_.expires_never();
    router_->Handle(std::move(req), [self = shared_from_this()](HttpResponse resp) {
      asio::dispatch(self->stream_.get_executor(),
                     [self, resp = std::move(resp)]() mutable { self->Write(std::move(resp)); });
    });
  }

  void WriteError(int status, const char* code, const std::string& message) {
    keep_alive_ = false;  // the stream's framing may be lost
    HttpResponse resp;
    resp.status = status;
    resp.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
    Write(std::move(resp));
  }

  void Write(HttpResponse resp) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(resp.status), version_ ? version_ : 11);
    res->set(http::field::server, "quanyu");
    res->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res->set(k, v);
    res->keep_alive(keep_alive_);
    if (head_) {
      // The length the GET's body would have, and no body.
      res->content_length(resp.body.size());
    } else {
      res->body() = std::move(resp.body);
      res->prepare_payload();
    }
    stream_.expires_after(std::chrono::seconds(options_.read_timeout_s));
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        self->OnWrite(ec, !res->keep_alive());
                      });
  }

  void OnWrite(beast::error_code ec, bool close) {
    if (ec || close) return Close();
    Read();
  }

  // Half-closes, then drains what the client is still sending for a moment
  // ("lingering close", as nginx does): closing with unread input makes the
  // kernel reset the connection, and the client would see EPIPE instead of
  // our answer (e.g. a 413 sent before an oversized body finished arriving).
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return;
    stream_.expires_after(std::chrono::seconds(2));
    Drain();
  }

  void Drain() {
    if (drained_ > kMaxDrainBytes) return;
    stream_.async_read_some(asio::buffer(drain_buffer_),
                            [self = shared_from_this()](beast::error_code ec, size_t n) {
                              self->drained_ += n;
                              if (!ec) self->Drain();
                            });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Router* router_;
  Engine* engine_;
  const ServerOptions& options_;
  static constexpr size_t kMaxDrainBytes = 16u << 20;
  std::array<char, 16384> drain_buffer_;
  size_t drained_ = 0;
  bool keep_alive_ = true;
  bool first_ = true;
  bool head_ = false;  // the request being answered is a HEAD
  unsigned version_ = 11;
  Counter* bytes_in_ = MetricsRegistry::Default()->GetCounter(
      "quanyu_http_request_bytes_total", "Bytes of HTTP requests read (headers and bodies)");
};

class ServerImpl final : public Server {
 public:
  ServerImpl(Engine* engine, const ServerOptions& options)
      : engine_(engine),
        options_(options),
        router_(engine, options.admin_key, options.web_dir),
        ioc_(options.threads > 0 ? options.threads
                                 : std::max(1u, std::thread::hardware_concurrency())),
        acceptor_(ioc_),
        signals_(ioc_) {}

  Status Bind() {
    auto colon = options_.listen.rfind(':');
    if (colon == std::string::npos) {
      return Status::InvalidArgument("--listen must be HOST:PORT, got \"" + options_.listen + "\"");
    }
    std::string host = options_.listen.substr(0, colon);
    if (host.empty()) host = "0.0.0.0";
    if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    int port = std::atoi(options_.listen.substr(colon + 1).c_str());
    boost::system::error_code ec;
    if (host == "localhost") host = "127.0.0.1";
    auto address = asio::ip::make_address(host, ec);
    if (ec)
      return Status::InvalidArgument("cannot parse listen address \"" + host +
                                     "\": " + ec.message());
    tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return Status::Unavailable("cannot listen on " + options_.listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    return Status::OK();
  }

  int port() const override { return port_; }

  void Run() override {
    Accept();
    int threads = options_.threads > 0
                      ? options_.threads
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::vector<std::thread> workers;
    for (int i = 1; i < threads; ++i) workers.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : workers) t.join();
  }

  void Stop() override {
    asio::post(ioc_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
    });
    ioc_.stop();
  }

 private:
  void Accept() {
    acceptor_.async_accept(
        asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
          if (ec == asio::error::operation_aborted) return;
          if (!ec) {
            socket.set_option(tcp::no_delay(true), ec);
            std::make_shared<Session>(std::move(socket), &router_, engine_, options_)->Start();
          } else {
            spdlog::warn("accept failed: {}", ec.message());
          }
          Accept();
        });
  }

  Engine* engine_;
  ServerOptions options_;
  Router router_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  int port_ = 0;
};

}  // namespace

Result<std::unique_ptr<Server>> Server::Create(Engine* engine, const ServerOptions& options) {
  auto server = std::make_unique<ServerImpl>(engine, options);
  RETURN_IF_ERROR(server->Bind());
  return std::unique_ptr<Server>(std::move(server));
}

}  // namespace quanyu::server
