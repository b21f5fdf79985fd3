"""Managers' analytics: processing times by hour and step, staffing by Erlang C, exports."""
