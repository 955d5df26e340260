{{ config(materialized='table') }}
-- Every prediction's signals of each source judged together per window and role (see macros/basket.sql), in the
-- measure each source is judged by: interest and documents and stories against the year before, stars and prices
-- inside the window, and interest's share of its peak month (peak_share).
select 'trends' as source, 'yoy' as measure, * from {{ basket('trends', 'yoy') }}
union all
select 'trends', 'peak_share', * from {{ basket('trends', 'within', measure='last_quarter_share_pct',
    detail="format('{} {:.1f}% of its {} peak', per_signal.signal, per_signal.change_pct,
        strftime(per_signal.peak_period, '%Y-%m'))") }}
union all
select 'github', 'within', * from {{ basket('github', 'within') }}
union all
select 'stocks', 'within', * from {{ basket('stocks', 'within') }}
union all
select 'regulatory', 'yoy', * from {{ basket('regulatory', 'yoy',
    detail="format('\"{}\" {:+.1f}%', per_signal.signal, per_signal.change_pct)") }}
union all
select 'news', 'yoy', * from {{ basket('news', 'yoy',
    detail="format('\"{}\" {:+.1f}%', per_signal.signal, per_signal.change_pct)") }}
