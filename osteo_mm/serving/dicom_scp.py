"""DICOM front door: a pynetdicom Storage SCP that scores films off the network thread.

C-STORE handling (network thread): parse the header, apply the Modality / body-part / view
filters, check the pixel data with the pipeline's own reader, refuse duplicates, then hand the
film to the scoring worker through a bounded queue. The sender hears success only after the
film is on disk and journaled, so nothing it was told was received can be lost by a crash.

DICOM status codes answered (PS3.4 Annex B, Storage Service Class):

* ``0x0000`` success (also for a film already received: it is not scored again);
* ``0xB006`` warning "elements discarded": accepted but *not scored* (filtered out; the reason
  is logged);
* ``0xA700`` out of resources: the queue is full, send again later;
* ``0xC000`` cannot understand: corrupt, colour, multi-frame, no pixel data, no UID.

Logs name films by a salted hash of their SOPInstanceUID only.
"""
import io
import logging
import os
import os.path as osp
import queue
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import pydicom
from pynetdicom import AE, ALL_TRANSFER_SYNTAXES, StoragePresentationContexts, evt
from pynetdicom.sop_class import Verification

from osteo_mm.datasets.errors import XrayDataError
from osteo_mm.datasets.transforms.loading import read_dicom
from osteo_mm.utils.io import write_atomic

from .engine import BaseEngine
from .journal import Journal
from .writers import uid_hash, write_results

LOGGER = logging.getLogger('osteo_mm.serving')

SUCCESS = 0x0000
WARNING_NOT_SCORED = 0xB006
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000
LOOPBACK = ('127.0.0.1', 'localhost', '::1')


@dataclass
class Filters:
    """Which films are scored.

    Attributes:
        modalities (tuple): Accepted Modality values. Defaults to ``('CR', 'DX')``.
        body_parts (tuple): Accepted BodyPartExamined values (upper case); empty accepts any.
            Defaults to ``('SHOULDER',)``.
        views (tuple): Accepted ViewPosition values; empty accepts any. Defaults to ``()``.
    """

    modalities: Tuple[str, ...] = ('CR', 'DX')
    body_parts: Tuple[str, ...] = ('SHOULDER', )
    views: Tuple[str, ...] = field(default_factory=tuple)

    def reason(self, ds: pydicom.Dataset) -> Optional[str]:
        """Why ``ds`` is not scored, or None when it is."""
        checks = (('Modality', self.modalities), ('BodyPartExamined', self.body_parts),
                  ('ViewPosition', self.views))
        for keyword, allowed in checks:
            if not allowed:
                continue
            value = str(ds.get(keyword, '') or '').strip().upper()
            if value not in allowed:
                shown = value[:16] if value.replace(' ', '').isalnum() else '<other>'
                return f'{keyword} {shown or "missing"} not in {",".join(allowed)}'
        return None


def parse_forward(spec: str) -> Tuple[str, str, int]:
    """``AE@host:port`` -> ``(ae_title, host, port)``."""
    try:
        aet, address = spec.split('@', 1)
        host, port = address.rsplit(':', 1)
        port_no = int(port)
    except ValueError:
        raise ValueError(f'--forward must look like AE@host:port, got {spec!r}') from None
    if not aet or len(aet) > 16 or not host or not 0 < port_no < 65536:
        raise ValueError(f'--forward must look like AE@host:port, got {spec!r}')
    return aet, host, port_no


class Forwarder:
    """C-STORE the results to a destination AE (one association per film).

    Args:
        spec (str): ``AE@host:port`` of the destination.
        calling_aet (str): Our AE title.
    """

    def __init__(self, spec: str, calling_aet: str) -> None:
        self.aet, self.host, self.port = parse_forward(spec)
        self.calling_aet = calling_aet

    def __call__(self, datasets: Sequence[pydicom.Dataset]) -> None:
        ae = AE(ae_title=self.calling_aet)
        for sop_class in {ds.SOPClassUID for ds in datasets}:
            ae.add_requested_context(sop_class)
        assoc = ae.associate(self.host, self.port, ae_title=self.aet)
        if not assoc.is_established:
            raise ConnectionError(f'destination {self.aet} refused or unreachable')
        try:
            for ds in datasets:
                status = assoc.send_c_store(ds)
                code = getattr(status, 'Status', None)
                if code is None or code not in (0x0000, 0xB000, 0xB006, 0xB007):
                    raise ConnectionError(f'destination {self.aet} answered status '
                                          f'{code if code is None else hex(code)}')
        finally:
            assoc.release()


class ScoringService:
    """Journal, bounded queue and scoring worker behind the Storage SCP.

    Args:
        engine (BaseEngine): The inference engine.
        out_dir (str): Output folder (``results/``, ``incoming/``, ``journal.sqlite``).
        filters (Filters): What is scored.
        queue_size (int): Films waiting for the worker before ``0xA700``. Defaults to 16.
        forward (callable, optional): Called with the result datasets (see
            :class:`Forwarder`).
        max_side (int): Larger films are refused. Defaults to 20000.
    """

    def __init__(self, engine: BaseEngine, out_dir: str, filters: Filters = Filters(),
                 queue_size: int = 16,
                 forward: Optional[Callable[[Sequence[pydicom.Dataset]], None]] = None,
                 max_side: int = 20000) -> None:
        self.engine = engine
        self.out_dir = osp.abspath(out_dir)
        self.incoming = osp.join(self.out_dir, 'incoming')
        os.makedirs(self.incoming, exist_ok=True)
        self.salt = self._salt()
        self.filters = filters
        self.forward = forward
        self.max_side = max_side
        self.journal = Journal(osp.join(self.out_dir, 'journal.sqlite'))
        self.queue: 'queue.Queue[Optional[str]]' = queue.Queue(maxsize=queue_size)
        self._accept = threading.Lock()
        self._resume = self._recover()
        self._worker = threading.Thread(target=self._work, name='osteo-mm-scorer', daemon=True)
        self._worker.start()
        self._servers: List[object] = []

    # -- set-up --------------------------------------------------------------------------
    def _salt(self) -> bytes:
        """A per-installation random salt for UID hashes, kept in the output folder."""
        path = osp.join(self.out_dir, '.uid_salt')
        if not osp.isfile(path):
            write_atomic(path, os.urandom(16).hex())
        with open(path) as f:
            return bytes.fromhex(f.read().strip())

    def _recover(self) -> List[str]:
        """Queued films whose file exists (resumed first); drop orphans of a crash."""
        pending = self.journal.pending()
        known = set(pending)
        for name in os.listdir(self.incoming):
            if not name.endswith('.dcm') or name[:-4] not in known:
                os.remove(osp.join(self.incoming, name))  # never acknowledged to a sender
        resume = []
        for key in pending:
            if osp.isfile(self._incoming_path(key)):
                resume.append(key)
            else:
                self.journal.finish(key, False, 'received file lost')
                LOGGER.error('film %s: received file lost before scoring', key[:12])
        if resume:
            LOGGER.info('resuming %d film(s) received before the restart', len(resume))
        return resume

    def _incoming_path(self, key: str) -> str:
        return osp.join(self.incoming, f'{key}.dcm')

    # -- network thread ------------------------------------------------------------------
    def handle_echo(self, event) -> int:
        """C-ECHO: always success."""
        return SUCCESS

    def handle_store(self, event) -> int:
        """C-STORE: accept, filter and queue one film; never raises."""
        try:
            return self._store(event.encoded_dataset())
        except Exception as err:  # a bug must not kill the association thread silently
            LOGGER.exception('C-STORE failed unexpectedly (%s)', type(err).__name__)
            return CANNOT_UNDERSTAND

    def _store(self, data: bytes) -> int:
        try:
            header = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            uid = str(header.SOPInstanceUID)
        except Exception as err:
            LOGGER.warning('film <unparsed>: refused (0xC000): unreadable DICOM header (%s)',
                           type(err).__name__)
            return CANNOT_UNDERSTAND
        key = uid_hash(uid, self.salt)
        tag = key[:12]
        reason = self.filters.reason(header)
        if reason:
            LOGGER.warning('film %s: not scored (0xB006): %s', tag, reason)
            return WARNING_NOT_SCORED
        if self.journal.state(key):
            LOGGER.info('film %s: already received, not scored again', tag)
            return SUCCESS
        part = osp.join(self.incoming, f'{key}.{threading.get_ident()}.part')
        write_atomic(part, data)
        try:
            read_dicom(part, self.max_side)  # the pipeline's own checks
        except XrayDataError as err:
            os.remove(part)
            why = str(err).replace(part, 'film')
            LOGGER.warning('film %s: refused (0xC000): %s', tag, why)
            return CANNOT_UNDERSTAND
        with self._accept:
            if self.journal.state(key):
                os.remove(part)
                LOGGER.info('film %s: already received, not scored again', tag)
                return SUCCESS
            if self.queue.full():
                os.remove(part)
                LOGGER.warning('film %s: queue full, refused (0xA700); the sender may retry',
                               tag)
                return OUT_OF_RESOURCES
            os.replace(part, self._incoming_path(key))
            self.journal.add(key)
            self.queue.put_nowait(key)
        LOGGER.info('film %s: queued', tag)
        return SUCCESS

    # -- worker --------------------------------------------------------------------------
    def _work(self) -> None:
        for key in self._resume:
            self._score(key)
        while True:
            key = self.queue.get()
            if key is None:
                return
            self._score(key)

    def _score(self, key: str) -> None:
        path, tag = self._incoming_path(key), key[:12]
        start = time.perf_counter()
        try:
            source = pydicom.dcmread(path, stop_before_pixels=True)
            pred = self.engine.predict(path)
            provenance = str(self.engine.threshold.get('provenance', {}).get('source', ''))
            datasets = write_results(self.out_dir, key, source, pred, self.engine.model_name,
                                     self.engine.model_version, provenance)
        except Exception as err:
            reason = str(err).replace(path, 'film')[:300] if isinstance(err, XrayDataError) \
                else type(err).__name__
            self.journal.finish(key, False, reason)
            LOGGER.error('film %s: scoring failed: %s', tag, reason)
            return
        forwarded = ''
        if self.forward is not None:
            try:
                self.forward(datasets)
                forwarded = ', forwarded'
            except Exception as err:
                forwarded = f', forward failed ({err})'
        self.journal.finish(key, True, forwarded.lstrip(', '))
        os.remove(path)
        LOGGER.info('film %s: scored p=%.4f class=%s (%.0f ms%s)', tag, pred.probability,
                    pred.label, 1000 * (time.perf_counter() - start), forwarded)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no film is queued or being scored; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.journal.pending() and self.queue.empty():
                return True
            time.sleep(0.05)
        return False

    # -- server --------------------------------------------------------------------------
    def start_scp(self, host: str, port: int, ae_title: str = 'OSTEO_MM',
                  allowed_aes: Optional[Sequence[str]] = None,
                  ssl_context: Optional[ssl.SSLContext] = None):
        """Start the Storage SCP in the background.

        Without ``allowed_aes`` only a loopback ``host`` is accepted (localhost-only DICOM);
        with it, associations from other calling AE titles are rejected.

        Returns:
            The pynetdicom server (``.shutdown()`` stops it).
        """
        if not allowed_aes and host not in LOOPBACK:
            raise ValueError(f'DICOM on {host} needs --allowed-aes (without it only localhost '
                             'may connect)')
        ae = AE(ae_title=ae_title)
        for context in StoragePresentationContexts:
            ae.add_supported_context(context.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        ae.add_supported_context(Verification)
        ae.maximum_associations = 16
        if allowed_aes:
            ae.require_calling_aet = list(allowed_aes)
        handlers = [(evt.EVT_C_STORE, self.handle_store), (evt.EVT_C_ECHO, self.handle_echo)]
        server = ae.start_server((host, port), block=False, evt_handlers=handlers,
                                 ssl_context=ssl_context)
        self._servers.append(server)
        return server

    def stop(self) -> None:
        """Stop the SCP(s), let the worker finish the queue and close the journal."""
        for server in self._servers:
            server.shutdown()
        self.queue.put(None)
        self._worker.join(timeout=60)
        self.journal.close()


def tls_context(cert: str, key: str, ca: Optional[str] = None) -> ssl.SSLContext:
    """Server-side TLS context; with ``ca``, clients must present a certificate it signed."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certfile=cert, keyfile=key)
    if ca:
        context.load_verify_locations(cafile=ca)
        context.verify_mode = ssl.CERT_REQUIRED
    return context
