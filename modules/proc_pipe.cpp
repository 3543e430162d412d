#include "modules/proc_pipe.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "modules/proc.hpp"
#include "modules/proc_loop.hpp"
#include "runtime/loop.hpp"

namespace procrun {
namespace proc {

// Platform parts (proc_pipe_posix.cpp).
int make_os_pipe(uv_file fds[2]);
void close_os_fd(uv_file fd);
// While any write is in flight, SIGPIPE is ignored, so that a reader that
// went away shows as EPIPE instead of killing procrun.
void hold_sigpipe();
void release_sigpipe();
long read_now(uv_file fd, char* buf, size_t len);

struct Pipe {
  uv_pipe_t handle_;
  bool reading_ = false;     // procrun's end reads (else it writes)
  bool closed_ = false;      // close_pipe was called
  bool close_done_ = false;  // and libuv has let go of the handle
  bool owned_ = true;        // a userdata refers to it
  std::string name_ = "pipe";

  // Received bytes not yet read are buf_[head_, tail_).
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0, head_ = 0, tail_ = 0;
  bool eof_ = false;
  int read_error_ = 0;
  int direct_reads_ = 0;  // by fill_now since the loop last read

  size_t pending_ = 0;  // writes in flight
  int write_error_ = 0;
};

namespace {

const char kPipeType[] = "pipe";
// Room offered to each read: more than a pipe holds (64 KiB on Linux), so
// that a read returning less tells libuv the pipe is empty and it does not
// spend another read(2) to learn so.
constexpr size_t kChunk = 256 * 1024;

// Reads in a row that fill_now may make before a reader must wait in the
// loop once, letting timers, other pipes and other threads have a turn.
constexpr int kDirectReads = 16;

std::vector<Pipe*> g_unstarted;  // reading ends not yet reading

struct WriteReq {
  uv_write_t req;
  Pipe* pipe;
  std::string data;  // the unwritten rest, kept alive until done
};

void on_closed(uv_handle_t* h) {
  auto* p = static_cast<Pipe*>(h->data);
  p->close_done_ = true;
  if (!p->owned_) delete p;
}

void make_room(Pipe* p) {
  size_t used = p->tail_ - p->head_;
  if (used == 0) p->head_ = p->tail_ = 0;
  if (p->cap_ - p->tail_ >= kChunk) return;
  if (p->head_ > 0 && p->cap_ - used >= kChunk) {
    std::memmove(p->buf_.get(), p->buf_.get() + p->head_, used);
  } else {
    size_t cap = p->cap_ ? p->cap_ * 2 : kChunk;
    while (cap - used < kChunk) cap *= 2;
    std::unique_ptr<char[]> b(new char[cap]);
    if (used) std::memcpy(b.get(), p->buf_.get() + p->head_, used);
    p->buf_ = std::move(b);
    p->cap_ = cap;
  }
  p->head_ = 0;
  p->tail_ = used;
}

void on_alloc(uv_handle_t* h, size_t, uv_buf_t* buf) {
  auto* p = static_cast<Pipe*>(h->data);
  make_room(p);
  *buf = uv_buf_init(p->buf_.get() + p->tail_,
                     static_cast<unsigned>(p->cap_ - p->tail_));
}

// n bytes (or the end, or an error) came into p's buffer.
void received(Pipe* p, ssize_t n) {
  if (n > 0) {
    p->tail_ += static_cast<size_t>(n);
  } else {
    p->eof_ = true;
    if (n != UV_EOF && n != 0) p->read_error_ = static_cast<int>(n);
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&p->handle_));
  }
}

void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t*) {
  auto* p = static_cast<Pipe*>(s->data);
  if (n == 0) return;  // nothing this time (EAGAIN)
  p->direct_reads_ = 0;
  received(p, n);
  wake(p);
}

void on_written(uv_write_t* req, int status) {
  auto* w = static_cast<WriteReq*>(req->data);
  Pipe* p = w->pipe;
  if (status && !p->write_error_) p->write_error_ = status;
  p->pending_--;
  release_sigpipe();
  wake(p);
  delete w;
}

Pipe* check_pipe(lua_State* L, int idx) {
  return *static_cast<Pipe**>(luaL_checkudata(L, idx, kPipeType));
}

Pipe* check_open(lua_State* L, int idx) {
  Pipe* p = check_pipe(L, idx);
  if (p->closed_) luaL_error(L, "attempt to use a closed pipe");
  return p;
}

// The unread bytes.
const char* data(const Pipe* p) {
  return p->buf_ ? p->buf_.get() + p->head_ : "";
}
size_t avail(const Pipe* p) {
  return p->tail_ - p->head_;
}

// Pushes true and n bytes taken from the buffer.
int take(lua_State* L, Pipe* p, size_t n) {
  lua_pushboolean(L, 1);
  lua_pushlstring(L, data(p), n);
  p->head_ += n;
  return 2;
}

// Pushes true, nil: the end of the stream, as io.read reports it.
int at_end(lua_State* L, Pipe* p) {
  if (p->read_error_)
    return push_os_errorf(L, p->read_error_, "read '%s'", p->name_.c_str());
  lua_pushboolean(L, 1);
  lua_pushnil(L);
  return 2;
}

int read_line(lua_State* L, Pipe* p, bool keep_newline) {
  const void* nl = std::memchr(data(p), '\n', avail(p));
  if (nl) {
    size_t len = static_cast<const char*>(nl) - data(p);
    if (keep_newline) return take(L, p, len + 1);
    take(L, p, len);
    p->head_++;
    return 2;
  }
  if (!p->eof_) return 0;
  return avail(p) ? take(L, p, avail(p)) : at_end(L, p);
}

int read_count(lua_State* L, Pipe* p, size_t n) {
  if (avail(p) >= n && (n > 0 || avail(p) > 0)) return take(L, p, n);
  if (!p->eof_) return 0;
  return avail(p) ? take(L, p, avail(p)) : at_end(L, p);
}

// A wrong call of try_read: nil, false. The Lua side knows how the user
// called it and raises the error that deserves; checking here keeps the
// right call free of any check in Lua.
int misuse(lua_State* L) {
  lua_pushnil(L);
  lua_pushboolean(L, 0);
  return 2;
}

// Answers the format at stack index 2 from p's buffer: the values it
// pushed, 0 if the buffer cannot answer yet, -1 if that is no format.
int answer(lua_State* L, Pipe* p) {
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Number count = lua_tonumber(L, 2);
    if (!(count >= 0)) return -1;
    // Converting a count past size_t (math.huge) is undefined: take it as
    // the most there could be, which reads to the end.
    return read_count(L, p,
                      count < 0x1p63 ? static_cast<size_t>(count) : SIZE_MAX);
  }
  const char* fmt = lua_tostring(L, 2);
  if (!fmt || lua_type(L, 2) != LUA_TSTRING) return -1;
  if (fmt[0] == '*') fmt++;
  switch (fmt[0]) {
    case 'l':
      return read_line(L, p, false);
    case 'L':
      return read_line(L, p, true);
    case 'a':
      if (!p->eof_) return 0;
      if (p->read_error_) return at_end(L, p);
      return take(L, p, avail(p));
    default:
      return -1;
  }
}

// Reads the pipe at once when the buffer cannot answer: while the writer
// keeps up, a chunk then costs one read(2) instead of a wait in the loop
// and a turn of the scheduler. False if nothing came, or if the reader
// must let the loop run first (kDirectReads).
bool fill_now(Pipe* p) {
  if (p->eof_ || p->direct_reads_ >= kDirectReads) return false;
  uv_file fd = pipe_fd(p);
  if (fd < 0) return false;
  make_room(p);
  long n = read_now(fd, p->buf_.get() + p->tail_, p->cap_ - p->tail_);
  if (n == UV_EAGAIN || n == UV_ENOSYS) return false;
  p->direct_reads_++;
  received(p, n == 0 ? static_cast<long>(UV_EOF) : n);
  return true;
}

// try_read(pipe, fmt) -> true, value | false | nil, message, code | nil,
// false: reads one format if the buffer (or the pipe, read now) can
// answer it; false means wait for more; nil, false that pipe is not an
// open read end or fmt is not a format.
int pipe_try_read(lua_State* L) {
  Pipe* p = to_pipe(L, 1);
  if (!p || p->closed_ || !p->reading_) return misuse(L);
  start_new_pipes();
  int n;
  while ((n = answer(L, p)) == 0 && fill_now(p)) {
  }
  if (n < 0) return misuse(L);
  if (n == 0) lua_pushboolean(L, 0);
  return n ? n : 1;
}

// write(pipe, s) -> true | nil, message, code: hands s to the kernel, the
// part that does not fit now to a write request that the loop finishes.
int pipe_write(lua_State* L) {
  Pipe* p = check_open(L, 1);
  if (p->reading_) luaL_argerror(L, 1, "pipe is not writable");
  size_t len;
  const char* s = luaL_checklstring(L, 2, &len);
  if (p->write_error_)
    return push_os_errorf(L, p->write_error_, "write '%s'", p->name_.c_str());

  auto* stream = reinterpret_cast<uv_stream_t*>(&p->handle_);
  int done = 0;
  if (p->pending_ == 0) {  // keep order: queue behind writes in flight
    hold_sigpipe();
    uv_buf_t b = uv_buf_init(const_cast<char*>(s), static_cast<unsigned>(len));
    done = uv_try_write(stream, &b, 1);
    release_sigpipe();
    if (done == UV_EAGAIN) done = 0;
    if (done < 0)
      return push_os_errorf(L, done, "write '%s'", p->name_.c_str());
  }
  if (static_cast<size_t>(done) < len) {
    auto* w = new WriteReq{{}, p, std::string(s + done, len - done)};
    w->req.data = w;
    uv_buf_t b =
        uv_buf_init(&w->data[0], static_cast<unsigned>(w->data.size()));
    hold_sigpipe();
    int rc = uv_write(&w->req, stream, &b, 1, on_written);
    if (rc) {
      release_sigpipe();
      delete w;
      return push_os_errorf(L, rc, "write '%s'", p->name_.c_str());
    }
    p->pending_++;
  }
  lua_pushboolean(L, 1);
  return 1;
}

// pending(pipe) -> n | nil, message, code: writes still in flight, or
// the error one of them met.
int pipe_pending(lua_State* L) {
  Pipe* p = check_pipe(L, 1);
  if (p->write_error_)
    return push_os_errorf(L, p->write_error_, "write '%s'", p->name_.c_str());
  lua_pushinteger(L, static_cast<lua_Integer>(p->pending_));
  return 1;
}

// buffered(pipe) -> bytes received and not yet read.
int pipe_buffered_count(lua_State* L) {
  lua_pushnumber(L, static_cast<lua_Number>(avail(check_pipe(L, 1))));
  return 1;
}

// take(pipe) -> everything received so far (maybe ""), not waiting.
int pipe_take(lua_State* L) {
  Pipe* p = check_pipe(L, 1);
  take(L, p, avail(p));
  return 1;
}

// eof(pipe) -> true once the writer is gone (or the end was closed).
int pipe_eof(lua_State* L) {
  Pipe* p = check_pipe(L, 1);
  if (!p->closed_) start_new_pipes();
  lua_pushboolean(L, p->eof_);
  return 1;
}

int pipe_close(lua_State* L) {
  close_pipe(check_pipe(L, 1));
  return 0;
}

// mode(pipe) -> 'r' for a reading end, 'w' for a writing end, nil once
// closed: what the Lua methods check before using an end.
int pipe_mode(lua_State* L) {
  Pipe* p = check_pipe(L, 1);
  if (p->closed_)
    lua_pushnil(L);
  else
    lua_pushstring(L, p->reading_ ? "r" : "w");
  return 1;
}

int pipe_closed(lua_State* L) {
  lua_pushboolean(L, check_pipe(L, 1)->closed_);
  return 1;
}

// key(pipe): what the scheduler waits on for this pipe's events.
int pipe_key(lua_State* L) {
  lua_pushlightuserdata(L, check_pipe(L, 1));
  return 1;
}

// Closes the end if needed; the Pipe goes once libuv is done with it.
int pipe_gc(lua_State* L) {
  Pipe* p = *static_cast<Pipe**>(lua_touserdata(L, 1));
  p->owned_ = false;
  if (!p->closed_)
    close_pipe(p);
  else if (p->close_done_)
    delete p;
  return 0;
}

int pipe_tostring(lua_State* L) {
  Pipe* p = check_pipe(L, 1);
  lua_pushfstring(L, "pipe '%s'%s", p->name_.c_str(),
                  p->closed_ ? " (closed)" : "");
  return 1;
}

const luaL_Reg kPrimitives[] = {
    {"buffered", pipe_buffered_count},
    {"close", pipe_close},
    {"closed", pipe_closed},
    {"eof", pipe_eof},
    {"key", pipe_key},
    {"mode", pipe_mode},
    {"pending", pipe_pending},
    {"take", pipe_take},
    {"try_read", pipe_try_read},
    {"write", pipe_write},
    {nullptr, nullptr},
};

}  // namespace

int open_child_pipe(bool we_read, Pipe** ours, uv_file* child_fd) {
  uv_file fds[2];
  if (int rc = make_os_pipe(fds)) return rc;
  uv_file mine = we_read ? fds[0] : fds[1];
  *child_fd = we_read ? fds[1] : fds[0];

  auto* p = new Pipe;
  p->reading_ = we_read;
  uv_pipe_init(runtime_loop(), &p->handle_, /*ipc=*/0);
  p->handle_.data = p;
  int rc = uv_pipe_open(&p->handle_, mine);
  if (rc == 0 && we_read) g_unstarted.push_back(p);
  if (rc) {
    p->owned_ = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&p->handle_), on_closed);
    close_os_fd(*child_fd);
    return rc;
  }
  *ours = p;
  return 0;
}

void push_pipe(lua_State* L, Pipe* p) {
  auto** ud = static_cast<Pipe**>(lua_newuserdata(L, sizeof(Pipe*)));
  *ud = p;
  luaL_getmetatable(L, kPipeType);
  lua_setmetatable(L, -2);
}

Pipe* to_pipe(lua_State* L, int idx) {
  void* ud = lua_touserdata(L, idx);
  if (!ud || !lua_getmetatable(L, idx)) return nullptr;
  luaL_getmetatable(L, kPipeType);
  bool is_pipe = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return is_pipe ? *static_cast<Pipe**>(ud) : nullptr;
}

uv_file pipe_fd(Pipe* p) {
  uv_os_fd_t fd;
  if (p->closed_ ||
      uv_fileno(reinterpret_cast<uv_handle_t*>(&p->handle_), &fd) != 0)
    return -1;
  return fd;
}

void set_pipe_name(Pipe* p, const char* name) {
  p->name_ = name;
}

void discard_pipe(Pipe* p) {
  p->owned_ = false;
  close_pipe(p);
}

bool pipe_reads(Pipe* p) {
  return p->reading_;
}

bool pipe_buffered(Pipe* p) {
  return avail(p) > 0;
}

void start_new_pipes() {
  for (Pipe* p : g_unstarted) {
    int rc = uv_read_start(reinterpret_cast<uv_stream_t*>(&p->handle_),
                           on_alloc, on_read);
    if (rc) {  // reported by the next read, as the end of the stream
      p->eof_ = true;
      p->read_error_ = rc;
      wake(p);
    }
  }
  g_unstarted.clear();
}

void close_pipe(Pipe* p) {
  if (p->closed_) return;
  g_unstarted.erase(std::remove(g_unstarted.begin(), g_unstarted.end(), p),
                    g_unstarted.end());
  p->closed_ = true;
  p->eof_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&p->handle_), on_closed);
  // Waiters look again and find it closed. A wake is only a hint to look
  // again, so one that outlives the Pipe does no harm.
  wake(p);
}

void register_pipe_type(lua_State* L) {
  if (luaL_newmetatable(L, kPipeType)) {
    lua_pushcfunction(L, pipe_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, pipe_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  lua_newtable(L);
  luaL_register(L, nullptr, kPrimitives);
}

}  // namespace proc
}  // namespace procrun
