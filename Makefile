# wangge: `make demo` runs the platform with demo data; `make test` runs every test.
.PHONY: install demo test bench lint messages

install: .venv/.installed
.venv/.installed: pyproject.toml requirements.lock scripts/install.sh
	scripts/install.sh

demo: install
	scripts/demo.sh

test: install
	scripts/test.sh

# make bench, or make bench BENCH=locate for one benchmark
bench: install
	.venv/bin/python -m bench $(BENCH)

lint: install
	.venv/bin/ruff check .

# Refresh the project's translation catalogue after changing user-facing strings. Apps with a
# locale/ dir of their own keep their strings there (run makemessages inside the app).
OWN_CATALOGUE_APPS = registry privacy insight jobs watch notify sensors patrol summons proactive routing worker workorders
MESSAGES_IGNORE ?= $(foreach app,$(OWN_CATALOGUE_APPS),--ignore '$(app)/*')
messages: install
	cd wangge && ../.venv/bin/wangge makemessages -l en -l zh_Hans --ignore 'static/*' $(MESSAGES_IGNORE) && ../.venv/bin/wangge compilemessages
