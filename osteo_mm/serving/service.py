"""One process, one model, two front doors: assembling the service from its parts."""
import logging
import os
import os.path as osp
import threading
import time
from dataclasses import dataclass
from typing import Optional, Sequence

import uvicorn
from mmengine.config import Config

from .dicom_scp import LOOPBACK, Filters, Forwarder, ScoringService, tls_context
from .engine import OnnxEngine, TorchEngine
from .http_api import TOKEN_ENV, create_app
from .provenance import THRESHOLD_FILE, fixed_threshold, model_version, read_threshold_record

LOGGER = logging.getLogger('osteo_mm.serving')


@dataclass
class ServeOptions:
    """Everything ``tools/serve.py`` can set (see its ``--help``)."""

    out_dir: str
    dicom_port: int
    http_port: int
    engine: str = 'torch'
    onnx: Optional[str] = None
    forward: Optional[str] = None
    dicom_host: str = '127.0.0.1'
    http_host: str = '127.0.0.1'
    ae_title: str = 'OSTEO_MM'
    allowed_aes: Sequence[str] = ()
    tls_cert: Optional[str] = None
    tls_key: Optional[str] = None
    tls_ca: Optional[str] = None
    token: Optional[str] = None
    threshold: Optional[float] = None
    threshold_file: Optional[str] = None
    modalities: Sequence[str] = ('CR', 'DX')
    body_parts: Sequence[str] = ('SHOULDER', )
    views: Sequence[str] = ()
    queue_size: int = 16
    max_upload_mb: float = 32.0
    model_name: Optional[str] = None


def check_security(opts: ServeOptions) -> Optional[str]:
    """Refuse unsafe settings before anything starts; return the effective token.

    Raises:
        ValueError: HTTP on a non-loopback address without a token, DICOM on one without
            ``--allowed-aes``, or half a TLS setting.
    """
    token = opts.token or os.environ.get(TOKEN_ENV) or None
    if opts.http_host not in LOOPBACK and not token:
        raise ValueError(f'HTTP on {opts.http_host} needs a bearer token (--token or '
                         f'${TOKEN_ENV}); without one only 127.0.0.1 is allowed')
    if opts.dicom_host not in LOOPBACK and not opts.allowed_aes:
        raise ValueError(f'DICOM on {opts.dicom_host} needs --allowed-aes; without it only '
                         'localhost may connect')
    if bool(opts.tls_cert) != bool(opts.tls_key):
        raise ValueError('--tls-cert and --tls-key go together')
    return token


def build_engine(cfg: Config, checkpoint: str, opts: ServeOptions):
    """The torch or ONNX engine with its threshold record (see :mod:`.provenance`)."""
    if opts.engine == 'onnx':
        if not opts.onnx:
            raise ValueError('--engine onnx needs --onnx model.onnx')
        override = fixed_threshold(opts.threshold) if opts.threshold is not None else None
        return OnnxEngine(opts.onnx, threshold=override)
    if opts.threshold is not None:
        threshold = fixed_threshold(opts.threshold)
    else:
        path = opts.threshold_file or osp.join(osp.dirname(osp.abspath(checkpoint)),
                                               THRESHOLD_FILE)
        threshold = read_threshold_record(path, checkpoint)
    name = opts.model_name or osp.splitext(osp.basename(cfg.filename or 'model'))[0]
    return TorchEngine(cfg, checkpoint, threshold, name, model_version(checkpoint))


class Service:
    """The running service: scoring worker, Storage SCP and HTTP server.

    Args:
        engine: The engine (:func:`build_engine`).
        opts (ServeOptions): Options.
        token (str, optional): Effective bearer token (:func:`check_security`).
    """

    def __init__(self, engine, opts: ServeOptions, token: Optional[str] = None) -> None:
        self.engine = engine
        self.opts = opts
        filters = Filters(tuple(m.upper() for m in opts.modalities),
                          tuple(b.upper() for b in opts.body_parts),
                          tuple(v.upper() for v in opts.views))
        forward = Forwarder(opts.forward, opts.ae_title) if opts.forward else None
        os.makedirs(opts.out_dir, exist_ok=True)
        self.scoring = ScoringService(engine, opts.out_dir, filters, opts.queue_size, forward)
        ssl_context = (tls_context(opts.tls_cert, opts.tls_key, opts.tls_ca)
                       if opts.tls_cert else None)
        self.scp = self.scoring.start_scp(opts.dicom_host, opts.dicom_port, opts.ae_title,
                                          list(opts.allowed_aes) or None, ssl_context)
        tmp = osp.join(opts.out_dir, 'tmp')
        os.makedirs(tmp, exist_ok=True)
        app = create_app(engine, token, int(opts.max_upload_mb * 1024 * 1024), filters, tmp)
        self.http = uvicorn.Server(uvicorn.Config(app, host=opts.http_host,
                                                  port=opts.http_port, log_level='warning',
                                                  access_log=False))
        self._http_thread = threading.Thread(target=self.http.run, name='osteo-mm-http',
                                             daemon=True)
        self._http_thread.start()
        deadline = time.monotonic() + 30
        while not self.http.started and self._http_thread.is_alive():
            if time.monotonic() > deadline:
                raise RuntimeError('the HTTP server did not start within 30 s')
            time.sleep(0.02)
        if not self.http.started:
            self.scoring.stop()
            raise RuntimeError(f'the HTTP server could not start on {opts.http_host}:'
                               f'{opts.http_port}')
        LOGGER.info('serving %s (%s engine): DICOM %s@%s:%d, HTTP %s:%d, results in %s',
                    engine.model_name, engine.kind, opts.ae_title, opts.dicom_host,
                    opts.dicom_port, opts.http_host, opts.http_port, opts.out_dir)

    def stop(self) -> None:
        """Stop both front doors and the worker (queued films are finished first)."""
        self.http.should_exit = True
        self._http_thread.join(timeout=10)
        self.scoring.stop()
