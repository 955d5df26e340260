-- Documents per registered search term and month, with a zero for every month from the start date to as_of in
-- which the term found nothing (whether that is a quiet month or a gap in the source, the yearly coverage says).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

terms as (
    select distinct signal as term
    from {{ ref('stg_registry__signals') }}
    where source = 'regulatory'
),

months as (
    select cast(m.period as date) as period
    from settings
    cross join unnest(generate_series(
        cast(date_trunc('month', settings.start_date) as timestamp),
        cast(settings.as_of as timestamp),
        interval 1 month)) as m(period)
),

found as (
    select
        matched.term,
        cast(date_trunc('month', docs.published_date) as date) as period,
        count(*) as documents
    from {{ ref('fct_regulatory_docs') }} as docs
    cross join unnest(docs.terms) as matched(term)
    group by all
)

select
    terms.term,
    months.period,
    coalesce(found.documents, 0) as documents
from terms
cross join months
left join found on found.term = terms.term and found.period = months.period
