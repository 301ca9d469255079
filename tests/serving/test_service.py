"""The service end to end: dcmtk clients, the Storage SCP, SR/SC results, Orthanc, HTTP API.

One service (torch engine, tiny ResNet-18 at 32 px) and one Orthanc run for the whole module, on
ports chosen at run time; every wait is bounded.
"""
import base64
import glob
import io
import logging
import os
import os.path as osp
import ssl
import subprocess
import threading
from types import SimpleNamespace

import cv2
import highdicom as hd
import httpx
import numpy as np
import pandas as pd
import pydicom
import pytest
from dicom_clients import DCMTK, Orthanc, echoscu, require_tools, storescu
from mmengine.config import Config
from pydicom.uid import generate_uid
from pynetdicom import AE
from serving_fixtures import free_port, run_main, wait_for

from osteo_mm.serving.dicom_scp import (
    CANNOT_UNDERSTAND,
    OUT_OF_RESOURCES,
    SUCCESS,
    WARNING_NOT_SCORED,
    Filters,
    ScoringService,
    tls_context,
)
from osteo_mm.serving.service import ServeOptions, Service, build_engine, check_security
from osteo_mm.serving.writers import uid_hash

TOKEN = 's3cret-token'
SENTINELS = ('ZZSENTINEL', '18991231')
DX = '1.2.840.10008.5.1.4.1.1.1.1'


class ListHandler(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


def _plant(path: str, out: str, **changes) -> str:
    """Copy a phantom film with sentinel identifiers (and ``changes``) to ``out``."""
    ds = pydicom.dcmread(path)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = 'ZZSENTINEL^NAME', 'ZZSENTINEL1', \
        '18991231'
    for key, value in changes.items():
        setattr(ds, key, value)
    ds.save_as(out, enforce_file_format=True)
    return out


@pytest.fixture(scope='module')
def svc(tiny_resnet):
    require_tools(*DCMTK)
    tmp, config, ckpt = tiny_resnet
    orthanc = Orthanc(osp.join(tmp, 'orthanc'))
    handler = ListHandler()
    logger = logging.getLogger('osteo_mm.serving')
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    opts = ServeOptions(out_dir=osp.join(tmp, 'out'), dicom_port=free_port(),
                        http_port=free_port(), forward=f'ORTHANC@127.0.0.1:{orthanc.dicom_port}',
                        allowed_aes=('STORESCU', 'ECHOSCU', 'TESTSCU'), token=TOKEN,
                        max_upload_mb=0.25)
    engine = build_engine(Config.fromfile(config), ckpt, opts)
    service = Service(engine, opts, check_security(opts))
    films = sorted(glob.glob(osp.join(tmp, 'phantom', 'images', '*.dcm')))
    planted = [_plant(f, osp.join(tmp, f'film{i}.dcm')) for i, f in enumerate(films[:2])]
    yield SimpleNamespace(tmp=tmp, config=config, ckpt=ckpt, opts=opts, engine=engine,
                          service=service, orthanc=orthanc, films=films, planted=planted,
                          log=handler.lines, out=opts.out_dir)
    service.stop()
    orthanc.stop()
    logger.removeHandler(handler)


def _results(out: str) -> list:
    folder = osp.join(out, 'results')
    return sorted(os.listdir(folder)) if osp.isdir(folder) else []


def _key(svc, path: str) -> str:
    return uid_hash(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID,
                    svc.service.scoring.salt)


def _send(svc, ds, aet: str = 'TESTSCU') -> int:
    """C-STORE one dataset with a pynetdicom SCU; returns the status code."""
    ae = AE(ae_title=aet)
    ae.add_requested_context(ds.SOPClassUID)
    assoc = ae.associate('127.0.0.1', svc.opts.dicom_port, ae_title='OSTEO_MM')
    assert assoc.is_established
    try:
        return int(assoc.send_c_store(ds).Status)
    finally:
        assoc.release()


def test_storescu_films_become_sr_and_sc_that_reference_the_source(svc):
    assert echoscu(svc.opts.dicom_port).returncode == 0
    proc = storescu(svc.opts.dicom_port, svc.planted)
    assert proc.returncode == 0, proc.stderr
    keys = [_key(svc, f) for f in svc.planted]
    journal = svc.service.scoring.journal
    wait_for(lambda: all(journal.state(k) == 'done' for k in keys), 30, 'scoring')
    assert _results(svc.out) == sorted(f'{k}.{kind}.dcm' for k in keys for kind in ('sc', 'sr'))
    for film, key in zip(svc.planted, keys):
        source = pydicom.dcmread(film)
        sr_path = osp.join(svc.out, 'results', f'{key}.sr.dcm')
        dump = subprocess.run(['dcmdump', sr_path], capture_output=True, text=True,
                              timeout=20).stdout
        assert 'Comprehensive3DSRStorage' in dump and source.SOPInstanceUID in dump
        assert 'Probability' in dump and svc.engine.model_version in dump
        sr = hd.sr.srread(sr_path)
        evidence = sr.CurrentRequestedProcedureEvidenceSequence[0]
        ref = evidence.ReferencedSeriesSequence[0].ReferencedSOPSequence[0]
        assert ref.ReferencedSOPInstanceUID == source.SOPInstanceUID
        groups = sr.content.get_image_measurement_groups()
        assert len(groups) == 1
        assert groups[0].source_images[0].referenced_sop_instance_uid == source.SOPInstanceUID
        measured = {m.name.meaning: m.value for m in groups[0].get_measurements()}
        expected = svc.engine.predict(film)
        assert float(measured['Probability']) == pytest.approx(expected.probability, abs=1e-6)
        assert float(measured['Validated decision threshold']) == 0.5
        result = groups[0].get_qualitative_evaluations()[0].value.meaning
        assert result == ('Osteoporosis' if expected.label == 'osteoporosis'
                          else 'No osteoporosis at threshold')
        sc = pydicom.dcmread(osp.join(svc.out, 'results', f'{key}.sc.dcm'))
        assert sc.SourceImageSequence[0].ReferencedSOPInstanceUID == source.SOPInstanceUID
        assert sc.StudyInstanceUID == source.StudyInstanceUID
        assert sc.pixel_array.shape == (64, 3 * 64, 3)  # film | map | map
    wait_for(lambda: not os.listdir(osp.join(svc.out, 'incoming')), 10, 'clean incoming')
    # Orthanc (the --forward destination) lists both results of both films.
    stored = wait_for(lambda: len(svc.orthanc.get('/instances')) >= 4 and
                      svc.orthanc.get('/instances'), 20, 'Orthanc to hold 4 instances')
    classes = sorted(svc.orthanc.get(f'/instances/{i}/simplified-tags')['SOPClassUID']
                     for i in stored)
    assert classes == sorted(['1.2.840.10008.5.1.4.1.1.88.34'] * 2
                             + ['1.2.840.10008.5.1.4.1.1.7'] * 2)
    # Re-sending a film is acknowledged but not scored again.
    assert storescu(svc.opts.dicom_port, svc.planted[:1]).returncode == 0
    wait_for(lambda: any('already received' in line for line in svc.log), 10, 'dup log')
    assert journal.counts()['scorings'] == 2
    # No identifier in the log: neither the planted names nor any raw UID.
    text = '\n'.join(svc.log)
    assert 'scored p=' in text
    for film in svc.planted:
        assert pydicom.dcmread(film).SOPInstanceUID not in text
    assert not any(s in text for s in SENTINELS)


def _bad(svc, kind: str):
    ds = pydicom.dcmread(svc.films[2])
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientName = 'ZZSENTINEL^BAD'
    if kind == 'corrupt':
        ds.PixelData = ds.PixelData[:len(ds.PixelData) // 3]
    elif kind == 'colour':
        rgb = np.zeros((ds.Rows, ds.Columns, 3), np.uint8)
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, 'RGB', 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
        ds.PixelData = rgb.tobytes()
    elif kind == 'multi-frame':
        ds.NumberOfFrames = 2
        ds.PixelData = ds.PixelData * 2
    elif kind == 'no-pixel':
        del ds.PixelData
    elif kind == 'knee':
        ds.BodyPartExamined = 'KNEE'
    elif kind == 'mr':
        ds.Modality = 'MR'
    return ds


@pytest.mark.parametrize('kind,status,why', [
    ('corrupt', CANNOT_UNDERSTAND, 'corrupt or unreadable'),
    ('colour', CANNOT_UNDERSTAND, 'colour DICOM'),
    ('multi-frame', CANNOT_UNDERSTAND, 'multi-frame'),
    ('no-pixel', CANNOT_UNDERSTAND, 'no pixel data'),
    ('knee', WARNING_NOT_SCORED, 'BodyPartExamined KNEE not in SHOULDER'),
    ('mr', WARNING_NOT_SCORED, 'Modality MR not in CR,DX'),
])
def test_bad_input_gets_a_status_writes_nothing_and_service_keeps_running(svc, kind, status,
                                                                          why):
    before = _results(svc.out), svc.service.scoring.journal.counts()
    ds = _bad(svc, kind)
    lines = len(svc.log)
    assert _send(svc, ds) == status
    assert (_results(svc.out), svc.service.scoring.journal.counts()) == before
    assert not os.listdir(osp.join(svc.out, 'incoming'))
    new = '\n'.join(svc.log[lines:])
    assert why in new and uid_hash(ds.SOPInstanceUID, svc.service.scoring.salt)[:12] in new
    assert 'ZZSENTINEL' not in new and ds.SOPInstanceUID not in new
    assert echoscu(svc.opts.dicom_port).returncode == 0  # still serving


def test_unlisted_calling_ae_is_rejected(svc):
    proc = echoscu(svc.opts.dicom_port, aet='INTRUDER')
    assert proc.returncode != 0
    assert 'Rejected' in proc.stdout + proc.stderr or 'rejected' in proc.stdout + proc.stderr


def test_uid_with_dot_dot_writes_nothing_outside_out_dir(svc):
    ds = _bad(svc, 'none')
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = '../../../../escaped'
    outside = osp.dirname(svc.out)
    before = set(os.listdir(outside))
    assert _send(svc, ds) == SUCCESS
    key = uid_hash('../../../../escaped', svc.service.scoring.salt)
    wait_for(lambda: svc.service.scoring.journal.state(key) == 'done', 20, 'scoring')
    assert set(os.listdir(outside)) == before
    assert f'{key}.sr.dcm' in _results(svc.out)


def test_http_api_tokens_limits_and_same_number(svc):
    base = f'http://127.0.0.1:{svc.opts.http_port}'
    auth = {'Authorization': f'Bearer {TOKEN}'}
    with httpx.Client(base_url=base, timeout=30) as client:
        assert client.get('/healthz').json() == {'status': 'ok'}
        assert client.get('/v1/model').status_code == 401
        assert client.get('/v1/model', headers={'Authorization': 'Bearer nope'}).status_code \
            == 401
        model = client.get('/v1/model', headers=auth).json()
        assert model['threshold'] == 0.5 and model['threshold_provenance']['epoch'] == 1
        film = svc.planted[1]  # carries sentinel identifiers
        with open(film, 'rb') as f:
            data = f.read()
        files = {'file': ('x.dcm', data, 'application/dicom')}
        assert client.post('/v1/predict', files=files).status_code == 401
        reply = client.post('/v1/predict', files=files, headers=auth)
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert not any(sentinel in reply.text for sentinel in SENTINELS)
        assert body['probability'] == pytest.approx(svc.engine.predict(film).probability,
                                                    abs=1e-9)
        assert body['model_version'] == svc.engine.model_version and body['threshold'] == 0.5
        overlay = cv2.imdecode(np.frombuffer(base64.b64decode(body['overlay_png']), np.uint8),
                               cv2.IMREAD_COLOR)
        assert overlay.shape == (64, 192, 3)
        png = cv2.imencode('.png', pydicom.dcmread(film).pixel_array.astype(np.uint16))[1]
        reply = client.post('/v1/predict', headers=auth,
                            files={'file': ('x.png', png.tobytes(), 'image/png')})
        assert reply.status_code == 200 and 0 <= reply.json()['probability'] <= 1
        big = {'file': ('big.dcm', b'\0' * 300_000, 'application/dicom')}
        assert client.post('/v1/predict', files=big, headers=auth).status_code == 413
        text = {'file': ('notes.txt', b'hello' * 40, 'text/plain')}
        assert client.post('/v1/predict', files=text, headers=auth).status_code == 415
        knee = io.BytesIO()
        _bad(svc, 'knee').save_as(knee, enforce_file_format=True)
        reply = client.post('/v1/predict', headers=auth,
                            files={'file': ('k.dcm', knee.getvalue(), 'application/dicom')})
        assert reply.status_code == 422 and 'KNEE' in reply.text and 'ZZSENTINEL' not in reply.text


def test_service_and_tools_test_give_the_same_number(svc, monkeypatch):
    work = osp.dirname(svc.ckpt)
    preds = osp.join(svc.tmp, 'preds.csv')
    assert run_main('test.py', [svc.config, svc.ckpt, '--work-dir', work, '--out', preds],
                    monkeypatch) == 0
    table = pd.read_csv(preds)
    assert len(table) >= 2
    root = osp.join(svc.tmp, 'phantom')
    for img_id, prob in zip(table['img_id'], table['prob_osteoporosis']):
        path = osp.join(root, img_id) if osp.isfile(osp.join(root, img_id)) else \
            glob.glob(osp.join(root, '**', osp.basename(img_id)), recursive=True)[0]
        assert svc.engine.predict(path).probability == pytest.approx(prob, abs=1e-6)


class _GatedEngine:
    """Delegates to the real engine once ``gate`` is set (holds the worker busy)."""

    def __init__(self, engine):
        self.engine, self.gate = engine, threading.Event()

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def predict(self, path):
        self.gate.wait()  # never set: this worker is 'killed' mid-film (daemon thread)
        return self.engine.predict(path)


def test_full_queue_answers_out_of_resources_and_restart_resumes(svc, tmp_path):
    engine = _GatedEngine(svc.engine)
    out = str(tmp_path / 'out')
    scoring = ScoringService(engine, out, Filters(), queue_size=1)
    port = free_port()
    scoring.start_scp('127.0.0.1', port)
    films = [_bad(svc, 'none') for _ in range(3)]
    opts = SimpleNamespace(dicom_port=port)
    client = SimpleNamespace(opts=opts)
    statuses = [_send(client, films[0])]
    wait_for(lambda: scoring.queue.empty(), 10, 'the worker to take film 0')
    statuses += [_send(client, ds) for ds in films[1:]]
    assert statuses == [SUCCESS, SUCCESS, OUT_OF_RESOURCES]
    # Crash while film 0 is being scored and film 1 waits: nothing of them is done yet.
    for server in scoring._servers:
        server.shutdown()
    scoring.journal.close()
    keys = [uid_hash(ds.SOPInstanceUID, scoring.salt) for ds in films]
    open(osp.join(out, 'incoming', 'orphan.dcm'), 'w').close()  # never acknowledged
    # Restart on the same folder: both acknowledged films are scored, the refused one not.
    restarted = ScoringService(svc.engine, out, Filters(), queue_size=1)
    try:
        wait_for(lambda: restarted.journal.counts()['done'] == 2, 30, 'resumed scoring')
        assert restarted.journal.counts()['scorings'] == 2
        assert restarted.journal.state(keys[2]) is None
        assert _results(out) == sorted(f'{k}.{s}.dcm' for k in keys[:2] for s in ('sc', 'sr'))
        wait_for(lambda: os.listdir(osp.join(out, 'incoming')) == [], 10, 'clean incoming')
    finally:
        restarted.stop()


def test_serve_cli_refuses_unsafe_addresses(svc, monkeypatch, capsys):
    monkeypatch.delenv('OSTEO_MM_SERVE_TOKEN', raising=False)
    common = [svc.config, svc.ckpt, '--out-dir', osp.join(svc.tmp, 'cli'), '--dicom-port', '1',
              '--http-port', '1']
    assert run_main('serve.py', common + ['--http-host', '0.0.0.0'], monkeypatch) == 2
    assert 'needs a bearer token' in capsys.readouterr().err
    assert run_main('serve.py', common + ['--dicom-host', '0.0.0.0'], monkeypatch) == 2
    assert 'needs --allowed-aes' in capsys.readouterr().err


def test_tls_scp_accepts_tls_and_refuses_plain(svc, tmp_path):
    require_tools('openssl')
    cert, key = str(tmp_path / 'cert.pem'), str(tmp_path / 'key.pem')
    subprocess.run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
                    '-subj', '/CN=localhost', '-keyout', key, '-out', cert], check=True,
                   capture_output=True, timeout=60)
    scoring = ScoringService(svc.engine, str(tmp_path / 'out'), Filters())
    port = free_port()
    scoring.start_scp('127.0.0.1', port, ssl_context=tls_context(cert, key))
    try:
        client = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cert)
        ae = AE(ae_title='TESTSCU')
        ae.add_requested_context('1.2.840.10008.1.1')
        ae.acse_timeout = ae.network_timeout = 5
        assoc = ae.associate('127.0.0.1', port, ae_title='OSTEO_MM',
                             tls_args=(client, 'localhost'))
        assert assoc.is_established
        assert assoc.send_c_echo().Status == SUCCESS
        assoc.release()
        assert not ae.associate('127.0.0.1', port, ae_title='OSTEO_MM').is_established
    finally:
        scoring.stop()
