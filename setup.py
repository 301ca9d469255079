"""Install osteo_mm: ``pip install -e .`` (see tools/setup_env.sh for the pinned stack)."""
import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    scope: dict = {}
    with open(osp.join(osp.dirname(__file__), 'osteo_mm', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def read_requirements(name: str) -> list:
    path = osp.join(osp.dirname(__file__), 'requirements', name)
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line]


setup(
    name='osteo_mm',
    version=read_version(),
    description='Data-efficient, explainable osteoporosis screening from shoulder '
    'X-rays, built on MMPretrain',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    python_requires='>=3.10',
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    license='Apache-2.0',
    zip_safe=False,
)
