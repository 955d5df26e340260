{{ config(materialized='table') }}
-- The last fetch outcome of every registered signal, one row per signal: `ok` when any of its datasets loaded,
-- otherwise the worst outcome with the source's problem (e.g. Wikimedia's 404 for a missing article) and its fix,
-- from its first dataset that did not load (a source's main dataset sorts first: pageviews, repo).
with statuses as (
    select * from {{ ref('stg_stocks__signal_status') }}
    union all
    select * from {{ ref('stg_trends__signal_status') }}
    union all
    select * from {{ ref('stg_github__signal_status') }}
    union all
    select * from {{ ref('stg_regulatory__signal_status') }}
    union all
    select * from {{ ref('stg_news__signal_status') }}
),

registered as (
    select distinct source, signal from {{ ref('stg_registry__signals') }}
)

select
    registered.source,
    registered.signal,
    case
        when bool_or(statuses.status = 'ok') then 'ok'
        when bool_or(statuses.status = 'failed') then 'failed'
        when bool_or(statuses.status = 'deferred') then 'deferred'
        when bool_or(statuses.status = 'no_data') then 'no_data'
        else 'not_fetched'
    end as status,
    arg_min(statuses.problem, statuses.dataset) filter (where statuses.status <> 'ok') as problem,
    arg_min(statuses.fix, statuses.dataset) filter (where statuses.status <> 'ok') as fix
from registered
left join statuses
    on statuses.source = registered.source and lower(statuses.signal) = lower(registered.signal)
group by all
