"""``mujun serve``: the review web app."""

from __future__ import annotations

import click


@click.command("serve")
@click.option("--host", help="Address to bind (default: setting serve_host, 127.0.0.1).")
@click.option("--port", type=int, help="TCP port (default: setting serve_port, 8000).")
@click.option("--workers", type=click.IntRange(1, 64),
              help="Worker processes (default: setting serve_workers; 0 there means one per "
                   "CPU core).")
@click.option("--https", "behind_https", is_flag=True,
              help="The app is reached through an HTTPS proxy: mark cookies Secure.")
@click.pass_obj
def serve(app, host, port, workers, behind_https):
    """Serve the review web app (审核系统).

    \b
    Binds to loopback (127.0.0.1) unless --host says otherwise. The app connects
    to PostgreSQL as the restricted role mujun_app (row-level security limits
    each user to their districts/towns); users come from `mujun user add`.
    Several worker processes share nothing but the database (sessions, CSRF
    tokens and login attempts live there). JavaScript and CSS are served from
    this machine (`make setup` installs them); pages make no request to the
    internet. Stop with Ctrl-C.
    """
    from maps.review.server import default_workers, review_settings, run

    settings = app.settings
    host = host or settings.serve_host
    port = port or settings.serve_port
    workers = workers or int(settings.serve_workers) or default_workers()
    config = review_settings(app.connect(), settings, secure_cookies=behind_https)
    app.close()  # the app uses its own restricted connections, never the owner's
    click.echo(f"mujun 审核系统已启动：http://{host}:{port}/（{workers} 个工作进程；"
               "按 Ctrl-C 停止）", err=True)
    run(config, host, port, workers)
