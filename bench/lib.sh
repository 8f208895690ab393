# Shared by the bench scripts (sourced from the repository root after their
# `cd`): the median of numbers on stdin, installing a missing tool, and the
# local nginx target.

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

need_apt() { # package command
  command -v "$2" >/dev/null 2>&1 && return 0
  echo "installing $1 (apt-get)" >&2
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq >&2; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$1" >&2
}

# Fails (with a message) if anything listens on one of the ports.
ports_free() { # port...
  local p
  for p in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "port $p is in use; set BENCH_PORT" >&2
      return 1
    fi
  done
}

# Writes DIR/nginx.conf: one worker in the foreground, everything under
# DIR, access_log off, `return 200 "ok"` on 127.0.0.1:PORT, keep-alive for
# (practically) unlimited requests.
nginx_conf() { # dir port
  cat >"$1/nginx.conf" <<EOF
worker_processes 1;
daemon off;
error_log $1/error.log warn;
pid $1/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/body;
  proxy_temp_path $1/proxy;
  fastcgi_temp_path $1/fastcgi;
  uwsgi_temp_path $1/uwsgi;
  scgi_temp_path $1/scgi;
  keepalive_requests 1000000000;
  keepalive_timeout 300s;
  server {
    listen 127.0.0.1:$2 backlog=4096;
    location / { default_type text/plain; return 200 "ok"; }
  }
}
EOF
}
