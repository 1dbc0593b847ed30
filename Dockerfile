# One image for ingest, the API and the demo fleet (camera simulator + agents).
FROM python:3.11-slim-bookworm

# opencv-doc ships the real street footage the camera simulator serves; slim images drop
# /usr/share/doc, so that one folder is let back in before installing it.
RUN printf 'path-include /usr/share/doc/opencv-doc/*\n' > /etc/dpkg/dpkg.cfg.d/zz-opencv-doc \
    && apt-get update \
    && apt-get install -y --no-install-recommends opencv-doc ffmpeg \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY contract contract
COPY edge edge
COPY gateway gateway
COPY ingest ingest
COPY alerts alerts
COPY api api
COPY catalog catalog
COPY tsdb tsdb
COPY servicekit servicekit
COPY devstack devstack
RUN pip install --no-cache-dir '.[server]'

RUN mkdir -p /var/lib/smartarea && chown nobody /var/lib/smartarea
USER nobody
CMD ["python", "-m", "api"]
