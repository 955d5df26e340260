-- P07, new generative modalities (3D): interest in the articles and stars of the registered repos.
-- Signals come from the registry; derived columns (rolling mean, year-over-year change) from int_signal_monthly.
select * from {{ indicator_series('P07') }}
