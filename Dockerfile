# One image for every Vejviser service; the service is chosen by the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOST=0.0.0.0
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY vejviser ./vejviser
RUN pip install --no-cache-dir . && useradd --system --uid 10001 vejviser
USER vejviser
# e.g. `vejviser serve referrals`
ENTRYPOINT ["vejviser"]
