\restrict abc
SET standard_conforming_strings = on;
CREATE TABLE public.t (id integer NOT NULL, body text);
CREATE FUNCTION public.f() RETURNS integer LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
CREATE FUNCTION public.g() RETURNS text AS $body$ select 'a;b' $body$ LANGUAGE sql;
COMMENT ON TABLE public.t IS E'it\'s; "quoted"';
COPY public.t (id, body) FROM stdin;
1	a\tb\\c
2	\N
\.
INSERT INTO public.t VALUES (3, 'x''y'), (4, NULL);
/* nested /* comment */ ; */
\unrestrict abc
