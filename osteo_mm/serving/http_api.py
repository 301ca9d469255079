"""HTTP front door (FastAPI): ``POST /v1/predict``, ``GET /v1/model``, ``GET /healthz``.

With a bearer token set, every ``/v1`` route needs ``Authorization: Bearer <token>`` (401
otherwise; ``/healthz`` stays open for probes). Uploads are DICOM Part 10 or PNG only (checked
by their magic bytes, 415 otherwise) and at most ``max_upload`` bytes (413). Responses carry no
DICOM identifier: probabilities, class, threshold, model version and the overlay PNG.
"""
import base64
import hmac
import io
import logging
import os
import os.path as osp
import tempfile
from typing import Optional

import cv2
import pydicom
from fastapi import Depends, FastAPI, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from osteo_mm.datasets.errors import XrayDataError

from .dicom_scp import Filters
from .engine import BaseEngine
from .writers import overlay_image

LOGGER = logging.getLogger('osteo_mm.serving')
PNG_MAGIC = b'\x89PNG\r\n\x1a\n'
#: Environment variable holding the bearer token (used when ``--token`` is not given).
TOKEN_ENV = 'OSTEO_MM_SERVE_TOKEN'


def upload_kind(head: bytes) -> Optional[str]:
    """``'dicom'``, ``'png'`` or None from the first 132 bytes of an upload."""
    if head[128:132] == b'DICM':
        return 'dicom'
    if head.startswith(PNG_MAGIC):
        return 'png'
    return None


def create_app(engine: BaseEngine, token: Optional[str] = None,
               max_upload: int = 32 * 1024 * 1024, filters: Optional[Filters] = None,
               tmp_dir: Optional[str] = None) -> FastAPI:
    """Build the FastAPI application.

    Args:
        engine (BaseEngine): The inference engine (shared with the DICOM front door).
        token (str, optional): Bearer token required on ``/v1`` routes.
        max_upload (int): Largest accepted upload in bytes. Defaults to 32 MiB.
        filters (Filters, optional): Modality/body-part filters applied to DICOM uploads
            (422 with the reason when a film is not scored).
        tmp_dir (str, optional): Where uploads are staged while scored.
    """
    app = FastAPI(title='osteo_mm screening service', version=engine.model_version,
                  docs_url=None, redoc_url=None, openapi_url=None)
    bearer = HTTPBearer(auto_error=False)

    @app.middleware('http')
    async def limit_size(request: Request, call_next):
        # Refuse a declared oversized body before it is read and spooled to disk.
        length = request.headers.get('content-length', '')
        if length.isdigit() and int(length) > max_upload + 65536:  # + multipart overhead
            return JSONResponse({'detail': f'upload larger than {max_upload} bytes'}, 413)
        return await call_next(request)

    def authorise(credentials: Optional[HTTPAuthorizationCredentials] = Depends(bearer)):
        if token is None:
            return
        given = credentials.credentials if credentials else ''
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, 'missing or wrong bearer token',
                                headers={'WWW-Authenticate': 'Bearer'})

    @app.get('/healthz')
    def healthz() -> dict:
        return dict(status='ok')

    @app.get('/v1/model', dependencies=[Depends(authorise)])
    def model() -> dict:
        return engine.describe()

    @app.post('/v1/predict', dependencies=[Depends(authorise)])
    async def predict(request: Request, file: UploadFile) -> dict:
        data = await file.read(max_upload + 1)
        if len(data) > max_upload:
            raise HTTPException(413, f'upload larger than {max_upload} bytes')
        kind = upload_kind(data[:132])
        if kind is None:
            raise HTTPException(415, 'upload must be a DICOM Part 10 file or a PNG')
        if kind == 'dicom' and filters is not None:
            try:
                header = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
            except Exception:
                raise HTTPException(422, 'unreadable DICOM header') from None
            reason = filters.reason(header)
            if reason:
                raise HTTPException(422, f'not scored: {reason}')
        fd, path = tempfile.mkstemp(suffix='.dcm' if kind == 'dicom' else '.png', dir=tmp_dir)
        try:
            with os.fdopen(fd, 'wb') as f:
                f.write(data)
            pred = engine.predict(path)
        except XrayDataError as err:
            raise HTTPException(422, str(err).replace(path, 'upload')) from None
        finally:
            if osp.exists(path):
                os.remove(path)
        overlay = overlay_image(pred)
        png = None
        if overlay is not None:
            ok, buffer = cv2.imencode('.png', cv2.cvtColor(overlay, cv2.COLOR_RGB2BGR))
            png = base64.b64encode(buffer.tobytes()).decode() if ok else None
        LOGGER.info('http: scored an upload (%s) p=%.4f class=%s', kind, pred.probability,
                    pred.label)
        return dict(probabilities=pred.probabilities, probability=pred.probability,
                    positive_class=engine.names[engine.pos_label], label=pred.label,
                    threshold=pred.threshold, model_name=engine.model_name,
                    model_version=engine.model_version, evidence_map=engine.cam_name,
                    overlay_png=png)

    return app
