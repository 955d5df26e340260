-- P06, AI agents that talk to agents: month-end stars of the agent frameworks, interest and share prices.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P06') }}
