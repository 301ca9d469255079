"""Screening service: DICOM Storage SCP + HTTP API around one model (research use only).

Scores CR/DX shoulder films received by C-STORE or ``POST /v1/predict`` and writes a DICOM SR
(TID 1500) and an evidence-map Secondary Capture per film to ``--out-dir/results`` (optionally
C-STOREd to ``--forward AE@host:port``). See docs/deployment.md.

Example:
    python tools/serve.py CONFIG CKPT --out-dir /srv/osteo --dicom-port 11112 --http-port 8080
"""
import argparse
import logging
import signal
import threading

from osteo_mm.serving.engine import ENGINES
from osteo_mm.serving.service import ServeOptions, Service, build_engine, check_security
from osteo_mm.utils.cli import UserInputError, cli_main, load_config, require_file


def _list(text: str) -> list:
    return [t.strip() for t in text.split(',') if t.strip()]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='DICOM + HTTP screening service')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--dicom-port', type=int, required=True)
    p.add_argument('--http-port', type=int, required=True)
    p.add_argument('--engine', choices=ENGINES, default='torch')
    p.add_argument('--onnx', help='model.onnx for --engine onnx')
    p.add_argument('--forward', help='C-STORE results to AE@host:port')
    p.add_argument('--dicom-host', default='127.0.0.1')
    p.add_argument('--http-host', default='127.0.0.1')
    p.add_argument('--ae-title', default='OSTEO_MM')
    p.add_argument('--allowed-aes', type=_list, default=[], help='calling AE titles, A,B')
    p.add_argument('--tls-cert')
    p.add_argument('--tls-key')
    p.add_argument('--tls-ca', help='require client certificates signed by this CA')
    p.add_argument('--token', help='HTTP bearer token (or $OSTEO_MM_SERVE_TOKEN)')
    p.add_argument('--threshold', type=float, help='fixed threshold (overrides the record)')
    p.add_argument('--threshold-file', help='validation threshold record')
    p.add_argument('--modalities', type=_list, default=['CR', 'DX'])
    p.add_argument('--body-parts', type=_list, default=['SHOULDER'],
                   help="accepted BodyPartExamined values ('' accepts any)")
    p.add_argument('--views', type=_list, default=[], help='accepted ViewPosition values')
    p.add_argument('--queue-size', type=int, default=16)
    p.add_argument('--max-upload-mb', type=float, default=32.0)
    p.add_argument('--model-name')
    p.add_argument('--debug', action='store_true')
    return p.parse_args(argv)


@cli_main
def main(argv=None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO,
                        format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    # pynetdicom logs raw UIDs at INFO; only its errors are kept (no identifiers in logs).
    logging.getLogger('pynetdicom').setLevel(logging.DEBUG if args.debug else logging.ERROR)
    logging.getLogger('highdicom').setLevel(logging.WARNING)  # one INFO line per copied module
    opts = ServeOptions(**{k: v for k, v in vars(args).items()
                           if k in ServeOptions.__dataclass_fields__})
    try:
        token = check_security(opts)
        cfg = load_config(args.config)
        require_file(args.checkpoint, 'checkpoint')
        service = Service(build_engine(cfg, args.checkpoint, opts), opts, token)
    except (ValueError, OSError) as err:
        raise UserInputError(str(err)) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    logging.getLogger('osteo_mm.serving').info('stopping: finishing queued films')
    service.stop()


if __name__ == '__main__':
    main()
