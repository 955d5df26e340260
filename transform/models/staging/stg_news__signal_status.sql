-- news's fetch outcomes, one row per signal and dataset (the shape is shared: macros/staging/signal_status.sql).
{{ signal_status('news') }}
