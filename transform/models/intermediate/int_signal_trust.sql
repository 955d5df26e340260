{{ config(materialized='table') }}
-- How far each registered series can be trusted, one class per (source, signal) over all the datasets it is loaded
-- from: synthetic if any is a stand-in, else derived if any is derived from real data, else real (a repo object with
-- real stars and stand-in forks counts as real: its stars are what is read); missing when the snapshot holds none
-- of its datasets. The verdicts' trust shares and the report's labels both read it.
select
    source,
    signal,
    case
        when bool_or(provenance = 'synthetic') then 'synthetic'
        when bool_or(provenance = 'derived') then 'derived'
        when bool_or(provenance in ('real', 'partly_synthetic', 'live')) then 'real'
        when bool_and(provenance = 'missing') then 'missing'
        else 'unknown'
    end as trust
from {{ ref('stg_registry__provenance') }}
group by source, signal
