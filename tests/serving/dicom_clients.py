"""Real DICOM peers for the serving tests: dcmtk command-line clients and an Orthanc PACS."""
import json
import os
import os.path as osp
import shutil
import subprocess
import urllib.request

import pytest
from serving_fixtures import free_port, wait_for

DCMTK = ('echoscu', 'storescu', 'dcmdump')


def require_tools(*names: str) -> None:
    """Skip (with the package to install) when a Debian tool is missing."""
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pytest.skip(f'{missing} not installed (Debian packages in requirements/apt.list)')


def storescu(port: int, files, aet: str = 'STORESCU', timeout: float = 60):
    """Send files with dcmtk's storescu; returns the completed process."""
    return subprocess.run(['storescu', '-aet', aet, '-aec', 'OSTEO_MM', '-nh', '127.0.0.1',
                           str(port)] + list(files), capture_output=True, text=True,
                          timeout=timeout)


def echoscu(port: int, aet: str = 'ECHOSCU', timeout: float = 20):
    """C-ECHO with dcmtk's echoscu."""
    return subprocess.run(['echoscu', '-aet', aet, '-aec', 'OSTEO_MM', '127.0.0.1', str(port)],
                          capture_output=True, text=True, timeout=timeout)


class Orthanc:
    """An Orthanc started with its own temporary configuration, ports and storage."""

    def __init__(self, root: str) -> None:
        require_tools('Orthanc')
        self.dicom_port, self.http_port = free_port(), free_port()
        os.makedirs(root, exist_ok=True)
        config = dict(Name='osteo-mm-test', StorageDirectory=osp.join(root, 'db'),
                      IndexDirectory=osp.join(root, 'db'), DicomAet='ORTHANC',
                      DicomPort=self.dicom_port, HttpPort=self.http_port,
                      RemoteAccessAllowed=False, AuthenticationEnabled=False,
                      DicomCheckCalledAet=False, DicomAlwaysAllowStore=True, Plugins=[],
                      SaveJobs=False)
        path = osp.join(root, 'orthanc.json')
        with open(path, 'w') as f:
            json.dump(config, f)
        self.log = open(osp.join(root, 'orthanc.log'), 'w')
        self.proc = subprocess.Popen([shutil.which('Orthanc'), path], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        wait_for(self._up, 20, 'Orthanc to answer on its REST port')

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f'Orthanc exited with {self.proc.returncode}')
        try:
            self.get('/system')
            return True
        except OSError:
            return False

    def get(self, route: str):
        with urllib.request.urlopen(f'http://127.0.0.1:{self.http_port}{route}',
                                    timeout=5) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()
